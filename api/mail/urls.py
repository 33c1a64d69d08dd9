"""URLs of api.mail, mounted under /api/v1/. Docs: docs/mail.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.mail import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("mail/messages/", views.MessageListView.as_view(), name="mail-messages"),
    path("mail/messages/<int:pk>/", views.MessageDetailView.as_view(), name="mail-message"),
    path("mail/messages/<int:pk>/read/", views.ReadView.as_view(), name="mail-read"),
    path("mail/messages/<int:pk>/recall/", views.RecallView.as_view(), name="mail-recall"),
    path("mail/messages/<int:pk>/receipts/", views.ReceiptsView.as_view(), name="mail-receipts"),
    path("mail/messages/<int:pk>/move/", views.MoveView.as_view(), name="mail-move"),
    path("mail/messages/<int:pk>/star/", views.StarView.as_view(), name="mail-star"),
    path("mail/send/", views.SendView.as_view(), name="mail-send"),
    path("mail/threads/<int:pk>/", views.ThreadView.as_view(), name="mail-thread"),
    path("mail/folders/", views.FolderListView.as_view(), name="mail-folders"),
    path("mail/folders/<int:pk>/", views.FolderDetailView.as_view(), name="mail-folder"),
    path("mail/groups/", views.GroupListView.as_view(), name="mail-groups"),
    path("mail/groups/<int:pk>/", views.GroupDetailView.as_view(), name="mail-group"),
    path("mail/attachments/", views.AttachmentUploadView.as_view(), name="mail-attachments"),
    path(
        "mail/attachments/<int:pk>/", views.AttachmentDownloadView.as_view(), name="mail-attachment"
    ),
    path("mail/quota/", views.QuotaView.as_view(), name="mail-quota"),
]
