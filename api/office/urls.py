"""URLs of api.office, mounted under /api/v1/. Docs: docs/personal-office.md#api."""

from django.urls import URLPattern, URLResolver, path, re_path

from api.office.views import calendar, contacts, delegations, notes

urlpatterns: list[URLPattern | URLResolver] = [
    path("calendar/events/", calendar.EventListView.as_view(), name="calendar-events"),
    path("calendar/events/<int:pk>/", calendar.EventDetailView.as_view(), name="calendar-event"),
    path("calendar/freebusy/", calendar.FreeBusyView.as_view(), name="calendar-freebusy"),
    path("calendar/access/", calendar.AccessListView.as_view(), name="calendar-access"),
    path(
        "calendar/access/<int:pk>/", calendar.AccessDetailView.as_view(), name="calendar-access-one"
    ),
    path("calendar/feed/", calendar.FeedTokenView.as_view(), name="calendar-feed-token"),
    re_path(
        r"^calendar/feed/(?P<token>[A-Za-z0-9_\-]{20,100})\.ics$",
        calendar.FeedView.as_view(),
        name="calendar-feed",
    ),
    path("notes/", notes.NoteListView.as_view(), name="notes"),
    path("notes/<int:pk>/", notes.NoteDetailView.as_view(), name="note"),
    path("contacts/", contacts.ContactListView.as_view(), name="contacts"),
    path("contacts/tree/", contacts.ContactTreeView.as_view(), name="contacts-tree"),
    path("contacts/<int:pk>/", contacts.ContactDetailView.as_view(), name="contact"),
    path("contacts/<int:pk>/vcard/", contacts.ContactVCardView.as_view(), name="contact-vcard"),
    path("office/delegations/", delegations.DelegationsView.as_view(), name="office-delegations"),
]
