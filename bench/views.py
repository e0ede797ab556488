"""The practical limit of this stack: a logged-in template page with two queries (the session
and the user), served by the same gunicorn as the pages it is compared with."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class MinimalView(LoginRequiredMixin, TemplateView):
    template_name = "bench/minimal.html"
