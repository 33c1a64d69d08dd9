"""Routes of the mobile approval API under /api/v1/ (docs/mobile-api.md)."""

from django.urls import path

from api.workflow.views import documents_flow as flow
from api.workflow.views import step_up as views_step_up
from api.workflow.views import tasks

urlpatterns = [
    path("tasks/", tasks.TaskListView.as_view(), name="task-list"),
    path("tasks/batch-approve/", tasks.BatchApproveView.as_view(), name="task-batch-approve"),
    path("tasks/<int:pk>/", tasks.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<int:pk>/approve/", tasks.ApproveView.as_view(), name="task-approve"),
    path("tasks/<int:pk>/return/", tasks.ReturnView.as_view(), name="task-return"),
    path("tasks/<int:pk>/transfer/", tasks.TransferView.as_view(), name="task-transfer"),
    path(
        "tasks/<int:pk>/add-countersigner/",
        tasks.AddCountersignerView.as_view(),
        name="task-add-countersigner",
    ),
    path(
        "tasks/<int:pk>/step-up-options/",
        views_step_up.TaskStepUpOptionsView.as_view(),
        name="task-step-up-options",
    ),
    path("tasks/<int:pk>/acknowledge/", tasks.AcknowledgeView.as_view(), name="task-acknowledge"),
    path("documents/<int:pk>/submit/", flow.SubmitView.as_view(), name="document-submit"),
    path("documents/<int:pk>/withdraw/", flow.WithdrawView.as_view(), name="document-withdraw"),
    path("documents/<int:pk>/move/", flow.MoveView.as_view(), name="document-move"),
    path(
        "documents/<int:pk>/end-circulation/",
        flow.EndCirculationView.as_view(),
        name="document-end-circulation",
    ),
    path("documents/<int:pk>/trail/", flow.TrailView.as_view(), name="document-trail"),
    path("me/summary/", tasks.SummaryView.as_view(), name="me-summary"),
]
