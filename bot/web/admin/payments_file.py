"""The finance team's file on the administrators' payments page: download the approved
lines waiting to be paid (and those paid), by reference; upload the same file back with
``yes`` in its paid column to mark that batch paid.

Both go through the same service as ``linkline payments export`` and ``paid --from-file``:
a file with any bad row marks nothing, and every problem is listed by its row.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from bot.services.payments import finance
from bot.web.admin.areas import StaffWeb, area_routes
from bot.web.admin.pages import Page, Web
from bot.web.admin.payments import owed_page
from store.errors import Refused

router = APIRouter()
MAX_BYTES = 2_000_000  # far more than 5,000 rows; anything bigger is not the exported file


def routes(web: Web) -> APIRouter:
    return area_routes(web, router)


@router.get("/admin/payments/finance.csv")
async def download(request: Request, web: StaffWeb, names: str = "") -> Response:
    """Names (and what each line was for) only when the administrator ticked the box."""
    async with web.page(request, admin=True) as page:
        named = names == "yes"
        lines = await finance.lines_for_finance(page.session, include_paid=True)
        text = finance.export_csv(lines, page.web.time_zone, names=named)
        page.viewed("payment", None, part="finance file", names=named, rows=len(lines))
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="payments-{page.today}.csv"',
                "Cache-Control": "no-store",
            },
        )


async def _read_upload(page: Page) -> str:
    upload = page.form.get(finance.FILE_FIELD) if page.form is not None else None
    if not isinstance(upload, UploadFile) or not (upload.filename or "").strip():
        raise finance.PaymentError("Choose the finance file to upload", field=finance.FILE_FIELD)
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise finance.PaymentError(
            "The file is too big to be the exported payments file", field=finance.FILE_FIELD
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise finance.PaymentError(
            "The file is not a CSV file saved as text: save it from the spreadsheet as CSV "
            "(UTF-8) and upload it again",
            field=finance.FILE_FIELD,
        ) from None


@router.post("/admin/payments/paid-file")
async def upload(request: Request, web: StaffWeb) -> Response:
    async with web.page(request, admin=True) as page:
        try:
            text = await _read_upload(page)
            done = await finance.mark_paid_from_csv(
                page.session, text, now=page.now, actor=page.actor
            )
        except Refused as exc:
            return await owed_page(page, page.refusal(exc, finance.FILE_FIELD))
        return page.redirect(
            "/admin/payments",
            flash=f"{len(done)} marked paid. Each person will be told it has been sent.",
        )
