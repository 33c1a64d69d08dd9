"""URLs of api.submissions, mounted under /api/v1/. Docs: docs/submissions.md#api."""

from django.urls import URLPattern, URLResolver, path

from api.submissions import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("submissions/", views.SubmissionListView.as_view(), name="submissions"),
    path("submissions/<int:pk>/", views.SubmissionDetailView.as_view(), name="submission"),
    path(
        "submissions/<int:pk>/approve/",
        views.SubmissionApproveView.as_view(),
        name="submission-approve",
    ),
    path(
        "submissions/<int:pk>/submit/",
        views.SubmissionSubmitView.as_view(),
        name="submission-submit",
    ),
    path(
        "submissions/<int:pk>/adopt/", views.SubmissionAdoptView.as_view(), name="submission-adopt"
    ),
    path(
        "submissions/<int:pk>/merge/", views.SubmissionMergeView.as_view(), name="submission-merge"
    ),
    path(
        "submissions/<int:pk>/return/",
        views.SubmissionReturnView.as_view(),
        name="submission-return",
    ),
    path(
        "submissions/<int:pk>/instructions/",
        views.SubmissionInstructView.as_view(),
        name="submission-instruct",
    ),
    path("calls/", views.CallListView.as_view(), name="calls"),
    path("calls/<int:pk>/", views.CallDetailView.as_view(), name="call"),
    path("calls/<int:pk>/urge/", views.CallUrgeView.as_view(), name="call-urge"),
    path("journals/", views.JournalListView.as_view(), name="journals"),
    path("journal-issues/", views.IssueListView.as_view(), name="journal-issues"),
    path("journal-issues/<int:pk>/", views.IssueDetailView.as_view(), name="journal-issue"),
    path(
        "journal-issues/<int:pk>/approve/",
        views.IssueApproveView.as_view(),
        name="journal-issue-approve",
    ),
    path(
        "journal-issues/<int:pk>/publish/",
        views.IssuePublishView.as_view(),
        name="journal-issue-publish",
    ),
    path("journal-issues/<int:pk>/pdf/", views.IssuePdfView.as_view(), name="journal-issue-pdf"),
    path("submission-scores/", views.ScoreView.as_view(), name="submission-scores"),
    path(
        "submission-score-entries/",
        views.ScoreEntryListView.as_view(),
        name="submission-score-entries",
    ),
    path("submission-rules/", views.RuleView.as_view(), name="submission-rules"),
]
