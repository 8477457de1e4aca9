"""Sign-in, sign-out and invitation links."""

from __future__ import annotations

from typing import Annotated, Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from smarter.application.errors import TooManyAttempts, Unauthenticated
from smarter.application.sign_in import AcceptInvitation, OpenInvitation, SignIn
from smarter.domain.errors import InvalidValue
from smarter.entrypoints.console.pages import anonymous, go, render, safe_next
from smarter.entrypoints.console.sessions import end_session, start_session

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/", guards=[anonymous], include_in_schema=False)
async def home() -> Redirect:
    return Redirect(path="/clients", status_code=303)


@get("/login", guards=[anonymous], include_in_schema=False)
async def sign_in_page(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return render(request, "sign_in.html", next=safe_next(next), form={})


@post("/login", guards=[anonymous], include_in_schema=False)
@inject
async def sign_in(
    request: Request[Any, Any, Any], data: Form, sign_in: FromDishka[SignIn]
) -> Response[Any]:
    address = request.client.host if request.client else "unknown"
    target = safe_next(data.get("next"))
    try:
        principal = await sign_in(
            data.get("account", ""), data.get("username", ""), data.get("password", ""), address
        )
    except (Unauthenticated, TooManyAttempts) as error:
        status = 429 if isinstance(error, TooManyAttempts) else 401
        form = {"account": data.get("account", ""), "username": data.get("username", "")}
        return render(request, "sign_in.html", status, error=error.message, next=target, form=form)
    response: Response[Any] = Redirect(path=target, status_code=303)
    await start_session(request, response, principal)
    return response


@post("/logout", guards=[anonymous], include_in_schema=False)
async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    response: Response[Any] = go("/login", "signed-out")
    await end_session(request, response)
    return response


@get("/invitations/{secret:str}", guards=[anonymous], include_in_schema=False)
@inject
async def invitation_page(
    request: Request[Any, Any, Any],
    secret: FromPath[str],
    open_invitation: FromDishka[OpenInvitation],
) -> Template:
    user = await open_invitation(secret)
    return render(request, "invitation.html", user=user, secret=secret)


@post("/invitations/{secret:str}", guards=[anonymous], include_in_schema=False)
@inject
async def accept_invitation(
    request: Request[Any, Any, Any],
    secret: FromPath[str],
    data: Form,
    open_invitation: FromDishka[OpenInvitation],
    accept: FromDishka[AcceptInvitation],
) -> Response[Any]:
    password = data.get("password", "")
    error = None
    if password != data.get("confirm", ""):
        error = "the two passwords differ"
    else:
        try:
            principal = await accept(secret, password)
        except InvalidValue as invalid:
            error = f"The password {invalid.reason}"
    if error is not None:
        user = await open_invitation(secret)
        return render(request, "invitation.html", 422, user=user, secret=secret, error=error)
    response: Response[Any] = go("/clients", "password-set")
    await start_session(request, response, principal)
    return response


ROUTES = [home, sign_in_page, sign_in, sign_out, invitation_page, accept_invitation]
