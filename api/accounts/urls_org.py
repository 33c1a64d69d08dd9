"""Organisation routes under /api/v1/. Docs: docs/organisation.md#endpoints."""

from django.urls import path

from api.accounts.views import appointments, people, posts, units, users

urlpatterns = [
    path("units/", units.UnitListView.as_view(), name="unit-list"),
    path("units/<int:pk>/", units.UnitDetailView.as_view(), name="unit-detail"),
    path("units/<int:pk>/children/", units.UnitChildrenView.as_view(), name="unit-children"),
    path("units/<int:pk>/members/", units.UnitMembersView.as_view(), name="unit-members"),
    path("units/<int:pk>/posts/", posts.UnitPostsView.as_view(), name="unit-posts"),
    path("units/<int:pk>/users/", users.UnitUsersView.as_view(), name="unit-users"),
    path("org-posts/<int:pk>/", posts.PostDetailView.as_view(), name="post-detail"),
    path("users/", people.PeoplePickerView.as_view(), name="people-picker"),
    path("users/<int:pk>/", users.UserDetailView.as_view(), name="user-detail"),
    path("users/<int:pk>/roles/", users.UserRolesView.as_view(), name="user-roles"),
    path(
        "users/<int:pk>/roles/<int:assignment_id>/",
        users.UserRoleDetailView.as_view(),
        name="user-role-detail",
    ),
    path("appointments/", appointments.AppointmentListView.as_view(), name="appointment-list"),
    path(
        "appointments/<int:pk>/",
        appointments.AppointmentDetailView.as_view(),
        name="appointment-detail",
    ),
    path(
        "appointments/<int:pk>/approve/",
        appointments.AppointmentApproveView.as_view(),
        name="appointment-approve",
    ),
    path(
        "appointments/<int:pk>/reject/",
        appointments.AppointmentRejectView.as_view(),
        name="appointment-reject",
    ),
    path(
        "appointments/<int:pk>/cancel/",
        appointments.AppointmentCancelView.as_view(),
        name="appointment-cancel",
    ),
]
