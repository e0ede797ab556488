"""The delivery log: every notification with its status, per process (topic) and overall, and a
retry button for failed ones. Thin: parse, call a selector or service, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import (
    LoginRequiredMixin,
    PermissionRequiredMixin,
    UserPassesTestMixin,
)
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from . import email_files, outbox, selectors
from .forms import DeliveryLogFilterForm, EmailPreferenceForm
from .models import Notification

VIEW_LOG = "notifications.view_delivery_log"
PAGE_SIZE = 50


def log_scope(user):
    """The notifications ``user`` may see in the log (NOTIFICATIONS_LOG_SCOPE), as a Q or None."""
    path = getattr(settings, "NOTIFICATIONS_LOG_SCOPE", None)
    return None if not path else import_string(path)(user)


class DeliveryLogView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    permission_required = VIEW_LOG
    template_name = "notifications/delivery_log.html"

    def get_context_data(self, **kwargs):
        scope = log_scope(self.request.user)
        form = DeliveryLogFilterForm(self.request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        status = filters.get("status") or None
        topic = filters.get("topic") or None
        page = Paginator(
            selectors.delivery_log(status=status, topic=topic, scope=scope), PAGE_SIZE
        ).get_page(self.request.GET.get("page"))
        # Keeps the filters when paging.
        query = urlencode({k: v for k, v in (("status", status), ("topic", topic)) if v})
        return super().get_context_data(
            form=form,
            page=page,
            topic=topic,
            counts=selectors.status_counts(topic=topic, scope=scope),
            query=query,
            can_retry=self.request.user.has_perm(outbox.RETRY_PERMISSION),
            current_url=self.request.get_full_path(),
            **kwargs,
        )


@method_decorator(require_POST, name="dispatch")
class RetryNotificationView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = outbox.RETRY_PERMISSION

    def post(self, request, pk):
        scope = log_scope(request.user)
        notifications = (
            Notification.objects.all() if scope is None else Notification.objects.filter(scope)
        )
        notification = get_object_or_404(notifications, pk=pk)
        try:
            outbox.retry_notification(notification=notification, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The notification to %(recipient)s has been queued again.")
                % {"recipient": notification.recipient_email},
            )
        next_url = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(next_url)
        return redirect("notifications:log")


class EmailFilesView(LoginRequiredMixin, UserPassesTestMixin, TemplateView):
    """The quick start's mailbox (DEBUG and the file backend only; staff only)."""

    template_name = "notifications/email_files.html"

    def dispatch(self, request, *args, **kwargs):
        if not email_files.is_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def test_func(self) -> bool:
        return self.request.user.is_staff

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "emails": email_files.latest_emails(),
            "folder": settings.EMAIL_FILE_PATH,
        }


class EmailPreferenceView(LoginRequiredMixin, View):
    """A user's own choice: an email per event, or a daily digest."""

    template_name = "notifications/preferences.html"

    def get(self, request):
        from .digest import wants_digest

        how = "daily" if wants_digest(request.user) else "each"
        return self._render(EmailPreferenceForm(initial={"how": how}))

    def post(self, request):
        from .digest import set_preference

        form = EmailPreferenceForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        set_preference(user=request.user, daily_digest=form.cleaned_data["how"] == "daily")
        messages.success(request, _("Your email preference has been saved."))
        return redirect("notifications:preferences")

    def _render(self, form, status=200):
        from django.shortcuts import render

        return render(self.request, self.template_name, {"form": form}, status=status)
