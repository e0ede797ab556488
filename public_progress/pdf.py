"""The adopted policy as a PDF: the text the municipality decided on, with its decision, rendered
by WeasyPrint as the follow-up report is (tagged PDF/UA, nothing fetched from outside)."""

from django.template.loader import render_to_string
from django.utils import timezone

from workflows.overview.report import html_to_pdf

from .selectors import AdoptedPolicy

TEMPLATE = "public_progress/policy_pdf.html"


def adopted_policy_pdf(policy: AdoptedPolicy) -> bytes:
    html = render_to_string(TEMPLATE, {"policy": policy, "generated_at": timezone.now()})
    return html_to_pdf(html)
