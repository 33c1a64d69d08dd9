"""A URLconf for tests that need a view failing with an unexpected exception."""

import threading

from django.db import transaction
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.errors import ApiError
from api.common.idempotency import idempotent
from api.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


class BoomView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("boom")


class CounterView(APIView):
    """Counts its executions so tests can tell a replay from a second run."""

    calls: list[dict] = []
    # Set by a test to hold the first request inside its transaction.
    hold: threading.Event | None = None
    entered: threading.Event | None = None

    @idempotent
    def post(self, request):
        CounterView.calls.append(dict(request.data))
        if request.data.get("hold") and CounterView.hold is not None:
            assert CounterView.entered is not None
            CounterView.entered.set()
            CounterView.hold.wait(timeout=30)
        if request.data.get("fail") == "after_commit":

            def broker_down():
                raise ConnectionError("broker unreachable")

            transaction.on_commit(broker_down)
        if request.data.get("fail") == "client":
            raise ApiError("validation_error")
        if request.data.get("fail") == "server":
            raise RuntimeError("server failure")
        return Response({"n": len(CounterView.calls)}, status=201)


def plain_boom(request):
    raise RuntimeError("plain boom")


urlpatterns = [
    *urlpatterns,
    path("boom/api/", BoomView.as_view()),
    path("boom/plain/", plain_boom),
    path("counter/", CounterView.as_view()),
]
