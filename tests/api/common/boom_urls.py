"""A URLconf for tests that need a view failing with an unexpected exception."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from api.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


class BoomView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("boom")


def plain_boom(request):
    raise RuntimeError("plain boom")


urlpatterns = [*urlpatterns, path("boom/api/", BoomView.as_view()), path("boom/plain/", plain_boom)]
