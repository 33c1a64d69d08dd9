"""URLs of api.exchange, mounted under /api/v1/. Docs: docs/exchange.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.exchange import views

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "documents/<int:document_id>/dispatch/",
        views.DocumentDispatchView.as_view(),
        name="document-dispatch",
    ),
    path(
        "tasks/<int:pk>/distribute/",
        views.TaskDistributeView.as_view(),
        name="task-distribute",
    ),
    path("exchange/inbox/", views.InboxView.as_view(), name="exchange-inbox"),
    path("exchange/groups/", views.GroupListView.as_view(), name="exchange-groups"),
    path("exchange/groups/<int:pk>/", views.GroupDetailView.as_view(), name="exchange-group"),
    path("exchange/<int:pk>/", views.ReceiptDetailView.as_view(), name="exchange-receipt"),
    path("exchange/<int:pk>/pdf/", views.ReceiptPdfView.as_view(), name="exchange-receipt-pdf"),
    path("exchange/<int:pk>/sign/", views.SignView.as_view(), name="exchange-sign"),
    path("exchange/<int:pk>/return/", views.ReturnView.as_view(), name="exchange-return"),
    path("exchange/<int:pk>/recall/", views.RecallView.as_view(), name="exchange-recall"),
]
