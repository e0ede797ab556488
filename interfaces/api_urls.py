"""Addresses of the API (/api/v1/…), its OpenAPI description (/api/schema/) and its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework import routers

from . import api, views

router = routers.SimpleRouter()
router.register("counties", api.CountyViewSet, basename="county")
router.register("municipalities", api.MunicipalityViewSet, basename="municipality")
router.register("processes", api.ProcessViewSet, basename="process")
router.register("decisions", api.DecisionViewSet, basename="decision")
router.register("audit-events", api.AuditEventViewSet, basename="audit-event")
router.register("enterprises", api.EnterpriseViewSet, basename="enterprise")
router.register("activities", api.ActivityViewSet, basename="activity")
router.register("network-organisations", api.OrganisationViewSet, basename="network-organisation")
router.register("network-members", api.MemberViewSet, basename="network-member")
router.register("network-meetings", api.NetworkMeetingViewSet, basename="network-meeting")
router.register("network-milestones", api.MilestoneViewSet, basename="network-milestone")

app_name = "api"

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.ApiDocsView.as_view(), name="docs"),
]
