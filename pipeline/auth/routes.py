"""Register, confirm your email, sign in and out, reset your password, your account."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from pipeline.access import TWO_FACTOR_DONE, public, signed_in, signed_out_only
from pipeline.auth import bp
from pipeline.auth.forms import (
    AccountForm,
    DomainRequestForm,
    NewPasswordForm,
    RegisterForm,
    ResetRequestForm,
    SignInForm,
    StartTwoFactorForm,
    TwoFactorForm,
)
from pipeline.extensions import login_manager
from pipeline.forms import choices
from pipeline.services import accounts, curation
from pipeline.services import two_factor as two_factor_service
from pipeline.services.errors import InvalidInput, RateLimited

PENDING_USER = "two_factor_pending_user"


@login_manager.user_loader
def load_user(session_id: str):
    return accounts.load_session_user(session_id)


def _safe_next(target: str | None) -> str:
    """Only follow a `next` that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("auth.account")


@bp.route("/register", methods=["GET", "POST"])
@signed_out_only
def register():
    form = RegisterForm()
    if form.email.data:
        try:
            councils = accounts.councils_for_email(accounts.normalise_email(form.email.data))
        except InvalidInput:
            councils = []
        if len(councils) > 1:
            form.council.choices = choices((c.id, c.name) for c in councils)
    if form.validate_on_submit():
        council_id = int(form.council.data) if form.council.data and form.council.data.isdigit() else None
        try:
            accounts.register(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                job_title=form.job_title.data or "",
                council_id=council_id,
            )
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            session["registered_email"] = form.email.data.strip().lower()
            return redirect(url_for("auth.check_your_email"))
    return render_template("auth/register.html", form=form)


@bp.route("/register/request-domain", methods=["GET", "POST"])
@public
def request_domain():
    """Ask organisers to add the email domain of a council (or organisation) Pipeline does not know."""
    form = DomainRequestForm()
    if request.method == "GET":
        form.email.data = request.args.get("email", "")[:320]
    if form.validate_on_submit():
        try:
            curation.request_domain(form.email.data, form.name.data or "", form.council_name.data)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            return render_template("auth/domain_requested.html")
    return render_template("auth/request_domain.html", form=form)


@bp.get("/register/check-your-email")
@public
def check_your_email():
    return render_template("auth/check_your_email.html", email=session.get("registered_email"))


@bp.get("/confirm-email/<token>")
@public
def confirm_email(token: str):
    try:
        accounts.confirm_email(token)
    except InvalidInput as error:
        return render_template("auth/link_problem.html", message=error.message), 400
    flash("Your email address is confirmed. You can now sign in.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/sign-in", methods=["GET", "POST"])
@signed_out_only
def sign_in():
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, request.remote_addr)
        except RateLimited as error:
            form.form_errors.append(error.message)
            status = 429
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            session.clear()  # a new session on sign-in, never one set up beforehand
            session.permanent = True
            if user.needs_two_factor and user.totp_enabled_at is not None:
                # Not signed in yet: the second factor comes first.
                session[PENDING_USER] = user.get_id()
                return redirect(url_for("auth.two_factor", next=request.args.get("next")))
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/sign_in.html", form=form), status


def _pending_user():
    """The user who passed the password step and now owes a code, if any."""
    session_id = session.get(PENDING_USER)
    return accounts.load_session_user(session_id) if session_id else None


@bp.route("/sign-in/two-factor", methods=["GET", "POST"])
@public
def two_factor():
    """The second step of signing in for organisers and admins, or of opening organiser pages."""
    user = current_user if current_user.is_authenticated else _pending_user()
    if user is None or user.totp_enabled_at is None:
        return redirect(url_for("auth.sign_in"))
    form = TwoFactorForm()
    status = 200
    if form.validate_on_submit():
        try:
            two_factor_service.verify(user, form.code.data, request.remote_addr)
        except RateLimited as error:
            form.form_errors.append(error.message)
            status = 429
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            if not current_user.is_authenticated:
                session.clear()
                session.permanent = True
                login_user(user)
            session[TWO_FACTOR_DONE] = True
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/two_factor.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@signed_in
def two_factor_setup():
    """Organisers and admins add Pipeline to an authenticator app before organiser pages open."""
    if current_user.totp_enabled_at is not None:
        return render_template("auth/two_factor_on.html")
    start = StartTwoFactorForm(prefix="start")
    form = TwoFactorForm()
    if start.submit.data and start.validate_on_submit():
        two_factor_service.start_setup(current_user)
        return redirect(url_for("auth.two_factor_setup", next=request.args.get("next")))
    if current_user.totp_secret and form.validate_on_submit():
        try:
            codes = two_factor_service.confirm_setup(current_user, form.code.data, request.remote_addr)
        except RateLimited as error:
            form.form_errors.append(error.message)
        except InvalidInput as error:
            form.add_service_error(error)
        else:
            session[TWO_FACTOR_DONE] = True
            return render_template("auth/recovery_codes.html", codes=codes, next=_safe_next(request.args.get("next")))
    qr = uri = None
    if current_user.totp_secret:
        uri = two_factor_service.provisioning_uri(current_user)
        qr = two_factor_service.qr_code_svg(uri)
    return render_template("auth/two_factor_setup.html", form=form, start=start, qr=qr, uri=uri)


@bp.post("/sign-out")
@signed_in
def sign_out():
    accounts.end_all_sessions(current_user)
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("main.home"))


@bp.route("/reset-password", methods=["GET", "POST"])
@public
def reset_password_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        return render_template("auth/reset_sent.html", email=form.email.data.strip())
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    try:
        accounts.user_for_reset_token(token)
    except InvalidInput as error:
        return render_template("auth/link_problem.html", message=error.message), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except InvalidInput as error:
            if error.field is None:
                return render_template("auth/link_problem.html", message=error.message), 400
            form.add_service_error(error)
        else:
            logout_user()
            session.clear()
            flash("Your password has been changed. Sign in with your new password.")
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@signed_in
def account():
    form = AccountForm(obj=current_user)
    if form.validate_on_submit():
        accounts.update_profile(current_user, form.name.data, form.job_title.data or "")
        flash("Your details have been saved.")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)
