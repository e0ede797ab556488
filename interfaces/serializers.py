"""What the API shows of each record: the facts the pages show, never a credential, and contact
persons' personal data only to those who may see it (the audit events' names, the ASF register's
business contact)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent
from enterprises.models import Enterprise
from municipalities.models import County, Municipality
from network.models import Member, Milestone, NetworkMeeting, Organisation
from outreach.models import Activity, Audience
from workflows.models import Decision, PolicyProcess


class CountySerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.name", default=None, read_only=True)

    class Meta:
        model = County
        fields = ["code", "name", "project"]


class MunicipalitySerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county.code", read_only=True)

    class Meta:
        model = Municipality
        fields = ["code", "name", "county"]


class ResponsibleSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class ProcessSerializer(serializers.ModelSerializer):
    municipality = serializers.CharField(source="municipality.code", read_only=True)
    municipality_name = serializers.CharField(source="municipality.name", read_only=True)
    county = serializers.CharField(source="municipality.county.code", read_only=True)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    responsible = ResponsibleSerializer(source="lead", read_only=True)
    started_at = serializers.DateTimeField(source="created", read_only=True)
    finished_at = serializers.DateTimeField(source="finished", read_only=True)
    stage_due_at = serializers.DateTimeField(
        source="due",
        read_only=True,
        allow_null=True,
        help_text=_("When the process counts as stalled in its stage (open processes)."),
    )

    class Meta:
        model = PolicyProcess
        fields = [
            "id",
            "municipality",
            "municipality_name",
            "county",
            "stage",
            "stage_label",
            "stage_entered_at",
            "stage_due_at",
            "is_open",
            "responsible",
            "started_at",
            "finished_at",
        ]


class DecisionSerializer(serializers.ModelSerializer):
    process = serializers.IntegerField(source="process_id", read_only=True)
    municipality = serializers.CharField(source="process.municipality.code", read_only=True)
    county = serializers.CharField(source="process.municipality.county.code", read_only=True)
    body_label = serializers.CharField(read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "process",
            "municipality",
            "county",
            "body",
            "body_label",
            "meeting_date",
            "paragraph",
            "case_number",
            "outcome",
            "outcome_label",
            "certification_date",
            "announcement_date",
            "appeal_deadline",
            "appeal_case_number",
            "legal_force_date",
            "minutes_url",
            "is_voided",
            "voided_reason",
            "recorded_at",
        ]


class AuditEventSerializer(serializers.ModelSerializer):
    """An event of the audit trail. Contact persons' names are filled in for readers who may
    see the county's personal data; others read "a contact person" in their place."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor_label = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "seq",
            "occurred_at",
            "kind",
            "kind_label",
            "actor_kind",
            "actor_label",
            "process_id",
            "municipality_name",
            "county_code",
            "stage",
            "summary",
            "reason",
            "hash",
        ]

    def _text(self, event, text: str) -> str:
        from audit.personal import expand

        personal_counties = self.context.get("personal_data_counties")
        may_see = personal_counties is None or event.county_code in personal_counties
        return expand(text, event.personal if may_see else None, missing=str(_("a contact person")))

    @extend_schema_field(OpenApiTypes.STR)
    def get_actor_label(self, event) -> str:
        return self._text(event, event.actor_label)

    @extend_schema_field(OpenApiTypes.STR)
    def get_summary(self, event) -> str:
        return self._text(event, event.summary)

    @extend_schema_field(OpenApiTypes.STR)
    def get_reason(self, event) -> str:
        return self._text(event, event.reason)


# --- The other aims ------------------------------------------------------------------------------


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField(source="contact_name")
    email = serializers.CharField(source="contact_email")
    phone = serializers.CharField(source="contact_phone")


class EnterpriseSerializer(serializers.ModelSerializer):
    """An ASF of the register. Its business contact (personal data) is filled in for readers who
    may see the county's personal data; for others ``contact`` is null."""

    county = serializers.CharField(source="county.code", read_only=True)
    municipalities = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    legal_form_label = serializers.CharField(source="get_legal_form_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    criteria = serializers.ListField(child=serializers.CharField(), read_only=True)
    contact = serializers.SerializerMethodField(
        help_text=_("The business contact; null unless you may see the county's personal data.")
    )

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "name",
            "org_number",
            "legal_form",
            "legal_form_label",
            "county",
            "municipalities",
            "line_of_business",
            "places",
            "works_with_reuse",
            "criteria",
            "status",
            "status_label",
            "registered_on",
            "closed_on",
            "contact",
        ]

    @extend_schema_field(ContactSerializer(allow_null=True))
    def get_contact(self, enterprise) -> dict | None:
        personal_counties = self.context.get("personal_data_counties")
        if personal_counties is not None and enterprise.county_id not in personal_counties:
            return None
        return ContactSerializer(enterprise).data


class AudienceSerializer(serializers.ModelSerializer):
    actor_type_label = serializers.CharField(source="get_actor_type_display", read_only=True)

    class Meta:
        model = Audience
        fields = ["actor_type", "actor_type_label", "total", "women", "men", "other"]


class ActivitySerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county.code", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    municipalities = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    enterprises = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    audience = AudienceSerializer(source="audience_in_order", many=True, read_only=True)
    reached_total = serializers.IntegerField(read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "county",
            "kind",
            "kind_label",
            "title",
            "held_on",
            "organiser",
            "description",
            "municipalities",
            "enterprises",
            "audience",
            "reached_total",
        ]


class OrganisationSerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county.code", read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "county", "name"]


class NetworkPartSerializer(serializers.ModelSerializer):
    organisation = serializers.IntegerField(source="organisation_id", read_only=True)
    county = serializers.CharField(source="organisation.county.code", read_only=True)


class MemberSerializer(NetworkPartSerializer):
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "organisation",
            "county",
            "enterprise",
            "enterprise_name",
            "joined_on",
            "left_on",
        ]


class NetworkMeetingSerializer(NetworkPartSerializer):
    """A meeting; its minutes file is a link (to the page's download, behind the same sign-in
    and scoping), never the file's content."""

    attendees = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    minutes_url = serializers.SerializerMethodField()

    class Meta:
        model = NetworkMeeting
        fields = [
            "id",
            "organisation",
            "county",
            "held_on",
            "agenda",
            "decisions",
            "attendees",
            "minutes_file_name",
            "minutes_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_minutes_url(self, meeting) -> str | None:
        if not meeting.minutes_file:
            return None
        url = reverse("network:minutes_file", kwargs={"pk": meeting.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class MilestoneSerializer(NetworkPartSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Milestone
        fields = ["id", "organisation", "county", "kind", "kind_label", "reached_on", "description"]
