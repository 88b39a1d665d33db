"""The designer's API (role designer, or a supervisor): review, label, retrain, promote, insights.

GET  /desk/api/designer/inbox?days=7          messages worth a look, each with its reasons
GET  /desk/api/designer/groups?days=7         the same, similar ones grouped, largest first
GET  /desk/api/designer/intents               what a message can be labelled with
POST /desk/api/designer/labels                {kind, items: [{key, text}], intent | topic, ...}
                                              400 a wrong request, 409 a clash with the data
GET  /desk/api/designer/labels                the latest labels
POST /desk/api/designer/labels/{id}/undo      takes out exactly what the label wrote
POST /desk/api/designer/runs                  validate, train a candidate, evaluate (background)
GET  /desk/api/designer/runs, /runs/{id}      progress, and the before/after report
POST /desk/api/designer/runs/{id}/promote     the Rasa server switches to the candidate
GET  /desk/api/designer/insights?days=30      containment, handoffs, satisfaction, busy hours
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from bot.db.models import Label, StaffRole, TrainingRun, User, utcnow
from bot.designer import figures, inbox, insights, labels, loop, training
from bot.desk.api.auth import current_user
from bot.errors import BadRequest, Forbidden
from bot.web.http import json_body, path_id, whole_number

DESIGNER = web.AppKey("designer", loop.Designer)
ROLES = (StaffRole.DESIGNER, StaffRole.SUPERVISOR)


def _designer(request: web.Request) -> User:
    user = current_user(request)
    if user.role not in ROLES:
        raise Forbidden("only conversation designers (and supervisors) may do this")
    return user


def _period(request: web.Request, default_days: int) -> figures.Period:
    days = whole_number(request.query.get("days", str(default_days)), maximum=366)
    if not days:
        raise BadRequest("invalid_days", "days must be a whole number from 1 to 366")
    return figures.last_days(days, utcnow(), request.app[DESIGNER].policy.desk.hours.timezone)


async def _items(request: web.Request, period: figures.Period) -> list[inbox.Item]:
    return await loop.items(request.app[DESIGNER], period.since, period.until)


async def inbox_view(request: web.Request) -> web.Response:
    _designer(request)
    items = await _items(request, _period(request, 7))
    return web.json_response({"items": [i.as_dict() for i in items], "reasons": inbox.REASONS})


async def groups_view(request: web.Request) -> web.Response:
    _designer(request)
    period = _period(request, 7)
    items = await _items(request, period)
    groups = loop.grouped(items)
    return web.json_response(
        {
            "groups": groups,
            "reasons": inbox.REASONS,
            "period": period.as_dict(),
            "figures": figures.inbox_figures(items, groups),
        }
    )


async def intents_view(request: web.Request) -> web.Response:
    _designer(request)
    project = request.app[DESIGNER].project
    found = project.intents()
    return web.json_response(
        {
            "intents": [{"name": name, "file": path.name} for name, path in sorted(found.items())],
            "faq_files": sorted(p.name for p in project.nlu_files() if p.name.startswith("faq_")),
        }
    )


def _label_request(data: Any) -> tuple[labels.LabelRequest, list[str]]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list) or not data["items"]:
        raise BadRequest("invalid_label", "send kind and items: [{key, text}, ...]")
    keys, texts = [], []
    for item in data["items"][:500]:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("key", "text")
        ):
            raise BadRequest("invalid_label", "every item needs a key and a text")
        keys.append(item["key"][:32])
        texts.append(item["text"])
    written: dict[str, list[str]] = {}
    for name in ("examples", "heldout"):
        phrasings = data.get(name) or []
        if not isinstance(phrasings, list) or not all(isinstance(p, str) for p in phrasings):
            raise BadRequest("invalid_label", f"{name} must be a list of phrasings")
        written[name] = phrasings
    fields: dict[str, str | None] = {k: data.get(k) for k in ("intent", "topic", "answer", "file")}
    if not all(v is None or isinstance(v, str) for v in fields.values()):
        raise BadRequest("invalid_label", "intent, topic, answer and file must be strings")
    language = data.get("language", "en")
    if not isinstance(language, str):
        raise BadRequest("invalid_label", "language must be a language code such as 'vi'")
    answers = data.get("answers") or {}
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
    ):
        raise BadRequest("invalid_label", "answers must map language codes to texts")
    request = labels.LabelRequest(
        str(data.get("kind")),
        texts,
        examples=written["examples"],
        heldout=written["heldout"],
        language=language,
        answers=answers,
        **fields,
    )
    return request, keys


async def label_view(request: web.Request) -> web.Response:
    user = _designer(request)
    wanted, keys = _label_request(await json_body(request))
    try:
        made = await loop.label(request.app[DESIGNER], user, wanted, keys)
    except labels.LabelError as error:
        raise BadRequest("invalid_label", str(error)) from None
    return web.json_response(_label_body(made), status=201)


def _label_body(label: Label) -> dict[str, Any]:
    return {
        "id": label.id,
        "kind": label.kind,
        "intent": label.intent,
        "status": label.status,
        "training": label.record["training"],
        "heldout": label.record["heldout"],
        "skipped": label.record["skipped"],
        "train_file": label.record["train_file"],
        "created_at": label.created_at.isoformat(),
    }


async def labels_view(request: web.Request) -> web.Response:
    _designer(request)
    async with request.app[DESIGNER].sessions() as session:
        rows = await loop.latest_labels(session)
    return web.json_response({"labels": [_label_body(label) for label in rows]})


async def undo_view(request: web.Request) -> web.Response:
    _designer(request)
    return web.json_response(_label_body(await loop.undo(request.app[DESIGNER], path_id(request))))


def _run_body(run: TrainingRun, with_report: bool) -> dict[str, Any]:
    body = {
        "id": run.id,
        "status": run.status,
        "step": run.step,
        "progress": run.progress,
        "error": run.error,
        "current": run.current,
        "candidate": Path(run.candidate).name if run.candidate else None,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "promoted_at": run.promoted_at.isoformat() if run.promoted_at else None,
        "verdict": (run.report or {}).get("comparison", {}).get("verdict"),
    }
    if with_report:
        body["report"] = run.report
    return body


async def start_run(request: web.Request) -> web.Response:
    run = await request.app[DESIGNER].trainer.start(_designer(request))
    return web.json_response(_run_body(run, False), status=202)


async def runs_view(request: web.Request) -> web.Response:
    _designer(request)
    async with request.app[DESIGNER].sessions() as session:
        rows = await training.recent_runs(session)
    return web.json_response({"runs": [_run_body(r, False) for r in rows]})


async def run_view(request: web.Request) -> web.Response:
    _designer(request)
    async with request.app[DESIGNER].sessions() as session:
        run = await training.run_of(session, path_id(request))
    if run is None:
        raise web.HTTPNotFound()
    return web.json_response(_run_body(run, True))


async def promote_view(request: web.Request) -> web.Response:
    user = _designer(request)
    run = await request.app[DESIGNER].trainer.promote(path_id(request), user)
    return web.json_response(_run_body(run, False))


async def insights_view(request: web.Request) -> web.Response:
    _designer(request)
    period = _period(request, 30)
    items = await _items(request, period)
    groups = loop.grouped(items)
    async with request.app[DESIGNER].sessions() as session:
        body = await insights.period(session, period, items)
    # the designer's own figures for the same period (its page shows the same numbers)
    body["inbox"] = figures.inbox_figures(items, groups)
    body["top_unanswered"] = [
        {"size": g["size"], "examples": [i["text"] for i in g["items"][:3]]} for g in groups[:5]
    ]
    return web.json_response(body)


def setup_routes(app: web.Application) -> None:
    r, d = app.router, "/desk/api/designer"
    r.add_get(f"{d}/inbox", inbox_view)
    r.add_get(f"{d}/groups", groups_view)
    r.add_get(f"{d}/intents", intents_view)
    r.add_post(f"{d}/labels", label_view)
    r.add_get(f"{d}/labels", labels_view)
    r.add_post(f"{d}/labels/{{id}}/undo", undo_view)
    r.add_post(f"{d}/runs", start_run)
    r.add_get(f"{d}/runs", runs_view)
    r.add_get(f"{d}/runs/{{id}}", run_view)
    r.add_post(f"{d}/runs/{{id}}/promote", promote_view)
    r.add_get(f"{d}/insights", insights_view)
