"""Follow-up of the whole project (uppföljning): the three aims for a chosen period, as a page,
a PDF report and a CSV file for the steering group and the funder. Reads only; it imports the
aims' apps (workflows, outreach, network, enterprises), and none of them imports it."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up of the whole project")
