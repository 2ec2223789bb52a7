"""A published version's fields and form class, built once per process."""

from __future__ import annotations

from functools import lru_cache

from werkzeug.datastructures import MultiDict
from wtforms import Form as WTForm

from app.caching import register_cache_clearer
from app.extensions import db
from app.fields import FieldSpec
from app.fields import build_form_class
from app.fields import get_field_type
from app.flow.pages import Flow
from app.models import FormVersion


@lru_cache(maxsize=1024)
def version_specs(version_id: int, _number: int | None = None) -> tuple[FieldSpec, ...]:
    """A version's fields, parsed once per process: versions never change once published, and
    their ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL)."""
    version = db.session.get(FormVersion, version_id)
    return tuple(version.specs) if version else ()


def specs_for(version: FormVersion) -> tuple[FieldSpec, ...]:
    return version_specs(version.id, version.number)


@lru_cache(maxsize=1024)
def version_form_class(version_id: int) -> type[WTForm]:
    """A version's WTForms class, built once per process as its fields are parsed once: a
    class only describes the fields, and every request binds an instance of its own."""
    return build_form_class(version_specs(version_id))


@lru_cache(maxsize=1024)
def version_flow(version_id: int, one_question_per_page: bool = False) -> Flow:
    """A version's pages and conditions, read once per process like its fields; with
    ``one_question_per_page``, every question on a page of its own."""
    version = db.session.get(FormVersion, version_id)
    flow = version.flow if version else Flow.from_schema({})
    if not one_question_per_page:
        return flow
    return flow.one_question_per_page(
        spec.key for spec in version_specs(version_id) if is_shown_question(spec)
    )


def is_shown_question(spec: FieldSpec) -> bool:
    """A question the respondent sees and answers (not a statement nor a hidden value)."""
    return get_field_type(spec.type).takes_answer and spec.type != "hidden"


@lru_cache(maxsize=1024)
def page_form_class(
    version_id: int, page_id: str, one_question_per_page: bool = False
) -> type[WTForm]:
    """The WTForms class of one page of a version: only that page's questions."""
    keys = set(version_flow(version_id, one_question_per_page).page(page_id).keys)
    return build_form_class([spec for spec in version_specs(version_id) if spec.key in keys])


register_cache_clearer(version_specs.cache_clear)
register_cache_clearer(version_form_class.cache_clear)
register_cache_clearer(version_flow.cache_clear)
register_cache_clearer(page_form_class.cache_clear)


def bind_form(form_class: type[WTForm], data: MultiDict, files: MultiDict) -> WTForm:
    if not files:
        return form_class(formdata=data)  # WTForms only reads it
    formdata = MultiDict(data)
    for key, upload in files.items(multi=True):
        formdata.add(key, upload)
    return form_class(formdata=formdata)
