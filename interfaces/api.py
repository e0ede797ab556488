"""The read-only JSON API: counties, municipalities, processes, decisions, audit events, the ASF
register, knowledge-spreading activities and the collaboration organisation, each
scoped to the counties the caller may read, paginated by cursor (stable while rows are added,
no count query). Described in OpenAPI 3 at /api/schema/ (drf-spectacular)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from workflows.models import Stage

from . import selectors, serializers
from .access import Cursor, MayReadTheRecord, cursor_by

COUNTY = OpenApiParameter("county", str, description=_("Only this county (two-digit code)."))
STAGE = OpenApiParameter("stage", str, enum=Stage.values, description=_("Only this stage."))


class ScopedViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [MayReadTheRecord]
    pagination_class = Cursor

    @property
    def county_code(self) -> str | None:
        return self.request.query_params.get("county") or None


@extend_schema_view(list=extend_schema(summary=_("Counties you may read")))
class CountyViewSet(ScopedViewSet):
    serializer_class = serializers.CountySerializer
    lookup_field = "code"
    pagination_class = cursor_by("code")

    def get_queryset(self):
        return selectors.counties(self.request.user)


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class MunicipalityViewSet(ScopedViewSet):
    serializer_class = serializers.MunicipalitySerializer
    lookup_field = "code"
    pagination_class = cursor_by("code")

    def get_queryset(self):
        return selectors.municipalities(self.request.user, county_code=self.county_code)


@extend_schema_view(list=extend_schema(parameters=[COUNTY, STAGE]))
class ProcessViewSet(ScopedViewSet):
    """Policy processes: one per municipality and round, with its stage and who leads it."""

    serializer_class = serializers.ProcessSerializer
    pagination_class = cursor_by("id")

    def get_queryset(self):
        return selectors.processes(
            self.request.user,
            county_code=self.county_code,
            stage=self.request.query_params.get("stage") or None,
        )


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class DecisionViewSet(ScopedViewSet):
    """Municipal decisions as recorded from the minutes, voided ones included (marked)."""

    serializer_class = serializers.DecisionSerializer
    pagination_class = cursor_by("id")

    def get_queryset(self):
        return selectors.decisions(self.request.user, county_code=self.county_code)


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class AuditEventViewSet(ScopedViewSet):
    """The audit trail of your counties, newest first."""

    serializer_class = serializers.AuditEventSerializer
    pagination_class = cursor_by("-id")

    def get_queryset(self):
        return selectors.audit_events(self.request.user, county_code=self.county_code)

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "personal_data_counties": selectors.personal_data_county_codes(self.request.user),
        }


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class EnterpriseViewSet(ScopedViewSet):
    """The ASF register. The business contact only for those who may see the county's personal
    data (leaders, steering group); null for others."""

    serializer_class = serializers.EnterpriseSerializer
    pagination_class = cursor_by("id")

    def get_queryset(self):
        return selectors.enterprises(self.request.user, county_code=self.county_code)

    def get_serializer_context(self):
        from municipalities import scoping

        ids = scoping.personal_data_county_ids(self.request.user)
        return {**super().get_serializer_context(), "personal_data_counties": ids}


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class ActivityViewSet(ScopedViewSet):
    """Knowledge-spreading activities with the audience reached, per actor type."""

    serializer_class = serializers.ActivitySerializer
    pagination_class = cursor_by("id")

    def get_queryset(self):
        return selectors.activities(self.request.user, county_code=self.county_code)


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class OrganisationViewSet(ScopedViewSet):
    """The collaboration organisation of each county (one per county project)."""

    serializer_class = serializers.OrganisationSerializer
    pagination_class = cursor_by("id")

    def get_queryset(self):
        return selectors.network_organisations(self.request.user, county_code=self.county_code)


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class MemberViewSet(ScopedViewSet):
    """Memberships of the collaboration organisations: the ASF, when it joined and left."""

    serializer_class = serializers.MemberSerializer
    pagination_class = cursor_by("id")

    def get_queryset(self):
        return selectors.network_members(self.request.user, county_code=self.county_code)


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class NetworkMeetingViewSet(ScopedViewSet):
    """Meetings of the collaboration organisations; the minutes file as a link."""

    serializer_class = serializers.NetworkMeetingSerializer
    pagination_class = cursor_by("id")

    def get_queryset(self):
        return selectors.network_meetings(self.request.user, county_code=self.county_code)


@extend_schema_view(list=extend_schema(parameters=[COUNTY]))
class MilestoneViewSet(ScopedViewSet):
    """Milestones in forming the collaboration organisations."""

    serializer_class = serializers.MilestoneSerializer
    pagination_class = cursor_by("id")

    def get_queryset(self):
        return selectors.network_milestones(self.request.user, county_code=self.county_code)
