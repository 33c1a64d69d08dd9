"""URLs of api.publishing, mounted under /api/v1/. Docs: docs/publishing.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.publishing.views import channels, files, flow, posts, search

urlpatterns: list[URLPattern | URLResolver] = [
    path("channels/", channels.ChannelListView.as_view(), name="channels"),
    path("channels/<int:pk>/posts/", channels.ChannelPostsView.as_view(), name="channel-posts"),
    path("posts/", posts.PostListView.as_view(), name="posts"),
    path("posts/<int:pk>/", posts.PostDetailView.as_view(), name="post"),
    path("posts/<int:pk>/versions/", posts.PostVersionsView.as_view(), name="post-versions"),
    path("posts/<int:pk>/submit/", flow.SubmitView.as_view(), name="post-submit"),
    path("posts/<int:pk>/publish/", flow.PublishView.as_view(), name="post-publish"),
    path("posts/<int:pk>/return/", flow.ReturnView.as_view(), name="post-return"),
    path("posts/<int:pk>/withdraw/", flow.WithdrawView.as_view(), name="post-withdraw"),
    path("posts/<int:pk>/read/", flow.ReadView.as_view(), name="post-read"),
    path("posts/<int:pk>/readers/", flow.ReadersView.as_view(), name="post-readers"),
    path(
        "posts/<int:pk>/attachments/",
        files.AttachmentUploadView.as_view(),
        name="post-attachments",
    ),
    path(
        "posts/<int:pk>/attachments/<int:attachment_id>/",
        files.AttachmentDownloadView.as_view(),
        name="post-attachment",
    ),
    path("posts/<int:pk>/cover/", files.CoverView.as_view(), name="post-cover"),
    path("search/", search.SearchView.as_view(), name="search"),
]
