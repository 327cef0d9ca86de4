"""The shape of every public record, as JSON Schema (OpenAPI 3.1), with what each field means.

The OpenAPI document, the API documentation page and the schema tests read these. Objects
allow no other properties, so a field that is not written down here cannot reach the API.
"""

from pipeline.models import NATIONS, PHASES, PLEDGE_KINDS, PLEDGE_STATES, UPDATE_KINDS
from pipeline.models.pledge import FIELD_LABELS, PLEDGE_ACTIONS
from pipeline.models.project import LINK_KINDS, PARTNER_ROLES, PARTNER_STATES


def text(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}


def optional_text(description: str, **extra) -> dict:
    return {"type": ["string", "null"], "description": description, **extra}


def integer(description: str, **extra) -> dict:
    return {"type": "integer", "description": description, **extra}


def web_address(description: str) -> dict:
    return text(description, format="uri")


def moment(description: str) -> dict:
    return text(description + " (RFC 3339, UTC).", format="date-time")


def optional_moment(description: str) -> dict:
    return optional_text(description + " (RFC 3339, UTC).", format="date-time")


def optional_integer(description: str, **extra) -> dict:
    return {"type": ["integer", "null"], "description": description, **extra}


def record(properties: dict, description: str = "") -> dict:
    """An object whose every property is always present (perhaps null), and nothing else."""
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def list_of(items: dict, description: str) -> dict:
    return {"type": "array", "description": description, "items": items}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


PHASE = text("Phase: idea, discovery, alpha, beta, live, retired or stopped.", enum=list(PHASES))

COUNCIL_REFERENCE = {
    "code": text("Three-letter local authority code.", examples=["LDS"]),
    "slug": text("The council's identifier in Pipeline's addresses.", examples=["leeds-city-council"]),
    "name": text("The council's name.", examples=["Leeds City Council"]),
}

PROJECT_REFERENCE = {
    "id": integer("Pipeline's number for the project; never reused."),
    "slug": text("The project's identifier in addresses; never changes.", examples=["bulky-waste-booking"]),
    "title": text("The project's title."),
    "phase": PHASE,
    "url": web_address("The project's page."),
    "api_url": web_address("The project's record in this API."),
}

PROJECT_SUMMARY_FIELDS = {
    **PROJECT_REFERENCE,
    "summary": text("One-line summary."),
    "dormant": {
        "type": "boolean",
        "description": "True when an open project has had no update, phase change or check-in for 90 days.",
    },
    "lead_council": record(COUNCIL_REFERENCE, "The council leading the project."),
    "councils": list_of(
        record(
            {
                **COUNCIL_REFERENCE,
                "role": text("The council's role.", enum=list(PARTNER_ROLES)),
                "state": text(
                    "How firmly the council is in: interested or committed.",
                    enum=[s for s in PARTNER_STATES if s != "requested"],
                ),
            }
        ),
        "Every council taking part, the lead first.",
    ),
    "services": list_of(
        record(
            {
                "lgsl_id": integer("The service's id in the Local Government Services List."),
                "label": text("The service's LGSL label."),
            }
        ),
        "The LGSL services the project works on.",
    ),
    "tags": list_of(record({"slug": text("Tag identifier."), "name": text("Tag.")}), "Free tags, A to Z."),
    "created_at": moment("When the project was posted"),
    "updated_at": moment("When the project last changed"),
    "feed_url": web_address("Atom feed of everything that happens on the project."),
}

PHASE_STEP = {
    "from_phase": {**PHASE, "type": ["string", "null"], "enum": [*PHASES, None], "description": "Phase before."},
    "to_phase": {**PHASE, "description": "Phase after."},
    "note": text("Why the phase changed, as the team wrote it."),
    "evidence_url": optional_text("A link to evidence for the change, if any."),
    "changed_at": moment("When the phase changed"),
}

PROJECT_DETAIL_FIELDS = {
    **PROJECT_SUMMARY_FIELDS,
    "problem": text("The problem the project is trying to solve (plain text)."),
    "description": text("About the project (Markdown)."),
    "outcome": text("The outcome, written when the project was stopped or retired; empty before."),
    "lessons": text("Lessons learnt, written when the project was stopped or retired; empty before."),
    "links": list_of(
        record(
            {
                "kind": text("What the output is.", enum=list(LINK_KINDS)),
                "title": text("The output's title."),
                "url": text("Its address."),
            }
        ),
        "Links to what the project produced.",
    ),
    "asks": record(
        {
            "money_target": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "Money the project asks for, in whole pounds; null when it asks for none.",
            },
            "people_needs": list_of(
                record(
                    {
                        "role": text("The role needed, like user researcher."),
                        "days": integer("Days needed.", minimum=1),
                        "start_date": optional_text("From (YYYY-MM-DD).", format="date"),
                        "end_date": optional_text("To (YYYY-MM-DD).", format="date"),
                    }
                ),
                "People the project asks for.",
            ),
        },
        "What the project asks other councils for.",
    ),
    "phase_history": list_of(record(PHASE_STEP), "Every phase change, oldest first; the first is the posting."),
    "active_at": moment("The project's last sign of life: an update, phase change or check-in"),
}

COUNCIL_FIELDS = {
    **COUNCIL_REFERENCE,
    "gss_code": optional_text("ONS Government Statistical Service code.", examples=["E08000035"]),
    "type": text("The kind of council, like metropolitan district."),
    "nation": text("Nation.", enum=list(NATIONS)),
    "region": text("Region in England (ITL1); the nation elsewhere."),
    "website_domain": optional_text("The council's website domain."),
    "project_count": integer("How many projects the council takes part in (lead, partner or observer).", minimum=0),
    "url": web_address("The council's page."),
    "api_url": web_address("The council's record in this API."),
    "feed_url": web_address("Atom feed of the projects the council takes part in."),
}

COUNCIL_DETAIL_FIELDS = {
    **COUNCIL_FIELDS,
    "projects": list_of(
        record({**PROJECT_REFERENCE, "role": text("The council's role.", enum=list(PARTNER_ROLES))}),
        "The projects the council takes part in, A to Z.",
    ),
}

FUNCTION = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "required": ["id", "label", "parent"],
    "description": "The Local Government Functions List entry the service belongs to.",
    "properties": {
        "id": integer("LGFL function id."),
        "label": text("Function label."),
        "parent": {"$ref": "#/components/schemas/Function"},
    },
}

SERVICE_FIELDS = {
    "lgsl_id": integer("The service's id in the Local Government Services List.", examples=[528]),
    "label": text("The service's LGSL label."),
    "description": text("LGSL's description of the service."),
    "function": ref("Function"),
    "project_count": integer("How many projects work on the service.", minimum=0),
    "url": web_address("The service's page."),
    "api_url": web_address("The service's record in this API."),
    "feed_url": web_address("Atom feed of the projects on the service."),
}

SERVICE_DETAIL_FIELDS = {
    **SERVICE_FIELDS,
    "projects": list_of(ref("ProjectReference"), "The projects working on the service, A to Z."),
}

PHASE_CHANGE_FIELDS = {
    "id": integer("Pipeline's number for the phase change."),
    "project": ref("ProjectReference"),
    **PHASE_STEP,
}

# Pledges: what the public ledger page (/projects/{slug}/pledges) shows, with councils and never people.
PLEDGE_STATE = text(
    "Where the pledge stands: offered, accepted, delivered, withdrawn or declined.", enum=list(PLEDGE_STATES)
)

PLEDGE_FIELDS = {
    "id": integer("Pipeline's number for the pledge."),
    "project": ref("ProjectReference"),
    "council": record(COUNCIL_REFERENCE, "The council that pledged."),
    "kind": text("What is pledged: money, people or skills.", enum=list(PLEDGE_KINDS)),
    "state": PLEDGE_STATE,
    "description": text("The pledge in a few words, as the ledger shows it.", examples=["User researcher, 10 days"]),
    "amount": optional_integer("Money, in whole pounds; null unless the kind is money.", minimum=1),
    "role": optional_text("The role of the people pledged; null unless the kind is people."),
    "days": optional_integer("Days of people's time; null unless the kind is people.", minimum=1),
    "skill": optional_text("The skill pledged; null unless the kind is skills."),
    "hours": optional_integer("Hours of the skill; null unless the kind is skills.", minimum=1),
    "start_date": optional_text("People: from (YYYY-MM-DD), if given.", format="date"),
    "end_date": optional_text("People: to (YYYY-MM-DD), if given.", format="date"),
    "note": text("The note the council gave with its offer; empty if none."),
    "created_at": moment("When the pledge was offered"),
    "updated_at": moment("When the pledge last changed"),
    "url": web_address("The pledge on the project's public ledger."),
}

CHANGE_VALUE = {
    "type": ["integer", "string", "null"],
    "description": "Pounds, days or hours as a whole number; a role or skill as text; a date as YYYY-MM-DD; "
    "null when not set.",
}

PLEDGE_EVENT_FIELDS = {
    "id": integer("Pipeline's number for the ledger entry."),
    "pledge_id": integer("The pledge's number (the id of a record in /pledges)."),
    "project": ref("ProjectReference"),
    "council": record(COUNCIL_REFERENCE, "The council that pledged."),
    "action": text(
        "What happened: offered, changed, accepted, declined, delivered or withdrawn.", enum=list(PLEDGE_ACTIONS)
    ),
    "from_state": {
        **PLEDGE_STATE,
        "type": ["string", "null"],
        "enum": [*PLEDGE_STATES, None],
        "description": "The pledge's state before; null for the offer.",
    },
    "to_state": {**PLEDGE_STATE, "description": "The pledge's state after."},
    "description": text("The pledge as it stood after this entry, in a few words."),
    "changes": list_of(
        record(
            {
                "field": text("What changed.", enum=list(FIELD_LABELS)),
                "before": CHANGE_VALUE,
                "after": CHANGE_VALUE,
            }
        ),
        "Each value the entry set or changed: an offer sets them (before is null), a change says before and after.",
    ),
    "reason": text(
        "Why, as written: the note with an offer or a delivery, the reason for a change, a decline or a "
        "withdrawal; empty if none."
    ),
    "actor_council": record(
        COUNCIL_REFERENCE, "The council of the officer who did it: the pledging council, or a team member's."
    ),
    "created_at": moment("When it happened"),
    "url": web_address("The entry on the project's public ledger."),
}

PLEDGE_TOTALS_FIELDS = {
    "count": integer("Pledges that count: offered, accepted or delivered (not withdrawn or declined).", minimum=0),
    "money_pledged": integer("Money pledged, in whole pounds.", minimum=0),
    "money_delivered": integer("Money delivered, in whole pounds.", minimum=0),
    "people_days_pledged": integer("Days of people's time pledged.", minimum=0),
    "people_days_delivered": integer("Days of people's time delivered.", minimum=0),
    "skill_hours_pledged": integer("Hours of skills pledged.", minimum=0),
    "skill_hours_delivered": integer("Hours of skills delivered.", minimum=0),
}

PLEDGE_TOTALS = record(
    PLEDGE_TOTALS_FIELDS,
    "Totals of the pledges that count (withdrawn and declined pledges do not). Delivered is part of pledged.",
)

UPDATE_FIELDS = {
    "id": integer("Pipeline's number for the update."),
    "project": ref("ProjectReference"),
    "kind": text("What kind of update: weeknotes, show and tell, decision or other.", enum=list(UPDATE_KINDS)),
    "title": text("The update's title."),
    "body": text("The update (Markdown)."),
    "author_council": record(COUNCIL_REFERENCE, "The council of the team member who posted it."),
    "created_at": moment("When it was posted"),
    "url": web_address("The update's page."),
}

COMMENT_FIELDS = {
    "id": integer("Pipeline's number for the comment."),
    "project": ref("ProjectReference"),
    "reply_to": optional_integer("The id of the comment this replies to; null for a comment that starts a thread."),
    "deleted": {
        "type": "boolean",
        "description": "True when its author deleted it: only a marker is left, with no text and no author.",
    },
    "body": optional_text("The comment (Markdown); null when deleted."),
    "author_council": {
        **record(COUNCIL_REFERENCE),
        "type": ["object", "null"],
        "description": "The council of the officer who wrote it; null when deleted.",
    },
    "official_response": {
        "type": "boolean",
        "description": "True for the reply the project team marked as its official response to the thread.",
    },
    "created_at": moment("When it was posted"),
    "edited_at": optional_moment("When its author last edited it; null if never (or deleted)"),
    "url": web_address("The comment in its thread."),
}

# Named schemas in the OpenAPI document's components.
SCHEMAS = {
    "ProjectReference": record(PROJECT_REFERENCE, "A project, briefly."),
    "ProjectSummary": record(PROJECT_SUMMARY_FIELDS, "A project as it appears in lists."),
    "Council": record(COUNCIL_FIELDS, "A UK principal council."),
    "CouncilDetail": record(COUNCIL_DETAIL_FIELDS, "A council and its projects."),
    "Function": FUNCTION,
    "Service": record(SERVICE_FIELDS, "A service in the Local Government Services List (LGSL)."),
    "ServiceDetail": record(SERVICE_DETAIL_FIELDS, "An LGSL service and its projects."),
    "PhaseChange": record(PHASE_CHANGE_FIELDS, "One step on a project's timeline."),
    "Pledge": record(PLEDGE_FIELDS, "A council's pledge of money, people or skills to a project, as it stands now."),
    "PledgeEvent": record(PLEDGE_EVENT_FIELDS, "One entry in a project's pledge ledger: what happened to a pledge."),
    "Update": record(UPDATE_FIELDS, "A dated post by a project's team: weeknotes, a show and tell, a decision."),
    "Comment": record(COMMENT_FIELDS, "A comment on a project, or a reply to one; a deleted one is a marker."),
    "Error": record(
        {"status": integer("The HTTP status code."), "message": text("What went wrong, and what to do.")},
        "What went wrong.",
    ),
}


def project_detail_schema(extra_fields: dict) -> dict:
    """The whole project record, with the fields other areas add (see open_data.PROJECT_FIELDS)."""
    return record({**PROJECT_DETAIL_FIELDS, **extra_fields}, "The whole public record of a project.")
