"""The practical limits of this stack, served by the same gunicorn as the pages compared with
them: a logged-in template page with two queries (the session and the user), and the same
content inside the site's layout behind the pages' read-permission check (the least a page a
signed-in reader opens costs before it shows anything)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from workflows.views import ReadMixin


class MinimalView(LoginRequiredMixin, TemplateView):
    template_name = "bench/minimal.html"


class LayoutView(ReadMixin, TemplateView):
    """The minimal page's content in ``base.html``: the menu, the language switch and the
    footer, as around every page; the access check of the overview, inbox and process pages."""

    template_name = "bench/layout.html"
