"""Realistic, repeatable demo data in bulk: officers, projects, councils, services, tags, needs and phases.

For trying Pipeline out and for benchmarks (bench/). The same seed and scale make the same data.
Text comes from pools of the problems councils really post about, so search and similar projects
have something true to work on; popularity is skewed (a few topics, services and councils are
far more common than the rest), as it is in life. Rows go in with SQLAlchemy Core, in batches.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, select, text

from pipeline.extensions import db
from pipeline.models import (
    Council,
    PeopleNeed,
    PhaseChange,
    Project,
    ProjectCouncil,
    ProjectMember,
    ProjectService,
    ProjectTag,
    Service,
    Tag,
    User,
)
from pipeline.services import search
from pipeline.services.errors import InvalidInput
from pipeline.services.passwords import hash_password
from pipeline.services.reference_data import slugify
from pipeline.timeutil import utcnow

FULL_SCALE_PROJECTS = 100_000
FULL_SCALE_USERS = 50_000
BATCH_SIZE = 10_000
DEMO_EMAIL_DOMAIN = "demo.invalid"


@dataclass(frozen=True)
class Topic:
    """A problem many councils share: how they name it, what they say about it, and its LGSL services."""

    subjects: tuple[str, ...]
    services: tuple[int, ...]
    tags: tuple[str, ...]
    problems: tuple[str, ...]


TOPICS = (
    Topic(
        ("bulky waste collections", "bulky item collections", "collections of large household items"),
        (528, 524),
        ("waste", "bookings", "online payments"),
        (
            "Residents phone the contact centre to book a bulky waste collection and wait on hold for twenty minutes.",
            "Crews turn up to collections that were cancelled because the cancellation never reached them.",
            "Half of bulky waste bookings are changed at least once, and each change is a phone call.",
        ),
    ),
    Topic(
        ("missed bin reports", "bin collections", "household waste collections", "recycling collections"),
        (524, 526, 533),
        ("waste", "recycling", "bins"),
        (
            "Missed bin reports arrive by phone, email and social media and are re-keyed into the crew system by hand.",
            "Residents do not know which bin goes out this week, so the wrong bins are left out.",
            "Crews cannot see reported problems on the round until they are back at the depot.",
        ),
    ),
    Topic(
        ("garden waste subscriptions", "garden waste collections"),
        (530,),
        ("waste", "subscriptions", "online payments"),
        (
            "Every spring thousands of residents renew their garden waste subscription by phone in the same fortnight.",
            "Stickers for garden waste bins are posted out by hand and often go missing.",
        ),
    ),
    Topic(
        ("council tax accounts", "council tax discounts", "council tax moves"),
        (58, 59, 57),
        ("council tax", "revenues", "self-service"),
        (
            "People moving home tell us by email and we re-key every change into the revenues system.",
            "Single person discount reviews take months because letters are sent and returned on paper.",
            "Most council tax calls are people asking for a copy of their bill or their balance.",
        ),
    ),
    Topic(
        ("housing repairs", "repairs reporting", "damp and mould reports"),
        (141, 139, 140),
        ("housing", "repairs", "tenants"),
        (
            "Tenants report repairs by phone and cannot tell whether an appointment has been booked.",
            "Damp and mould reports are not followed up because they are logged in three different places.",
            "Operatives arrive without the right part because the repair was described badly on the phone.",
        ),
    ),
    Topic(
        ("residents' parking permits", "parking permits", "visitor parking permits"),
        (474, 279),
        ("parking", "permits", "transport"),
        (
            "Residents post proof of address to apply for a parking permit and wait weeks for a paper permit.",
            "Visitor permits are scratch cards that are easy to copy and hard to enforce.",
        ),
    ),
    Topic(
        ("blue badge applications", "disabled parking applications"),
        (279, 274),
        ("accessibility", "parking", "applications"),
        (
            "Blue badge applications stall while staff chase missing evidence by letter.",
            "Applicants are asked for the same medical evidence the council already holds.",
        ),
    ),
    Topic(
        ("potholes and road defects", "road maintenance reports", "pavement repairs"),
        (557, 537, 536),
        ("highways", "roads", "reporting"),
        (
            "Potholes are reported several times by different people and each report is inspected separately.",
            "Residents cannot see whether a reported road defect has been scheduled for repair.",
        ),
    ),
    Topic(
        ("street lighting faults", "broken street lights"),
        (564, 566),
        ("highways", "street lighting", "reporting"),
        ("Street light faults are reported without the column number, so engineers cannot find the right one.",),
    ),
    Topic(
        ("fly-tipping reports", "flytipping enforcement", "litter and fly-tipping"),
        (587, 580, 582),
        ("environment", "enforcement", "reporting"),
        (
            "Fly-tipping reports arrive without a location or photo, so officers visit the wrong place.",
            "We collect the same fly-tipped waste week after week and never find out who dumped it.",
        ),
    ),
    Topic(
        ("graffiti removal", "street cleaning requests"),
        (584, 582),
        ("environment", "street cleaning"),
        ("Graffiti and street cleaning requests are handled by email and nobody can see what is outstanding.",),
    ),
    Topic(
        ("planning applications", "householder planning applications", "planning decision notices"),
        (487, 485, 516),
        ("planning", "applications", "data standards"),
        (
            "Half of householder planning applications are invalid when they arrive, so validation takes weeks.",
            "Neighbours cannot easily see planning applications near them or comment on them.",
        ),
    ),
    Topic(
        ("care needs assessments", "adult social care assessments", "care at home"),
        (209, 242, 287),
        ("social care", "adults", "assessments"),
        (
            "People wait weeks for a care needs assessment and tell their story again at every visit.",
            "Carers are not told what happens next after an assessment.",
            "Direct payment reviews are done on paper and take staff away from visits.",
        ),
    ),
    Topic(
        ("carers' support", "young carers support"),
        (225, 300, 298),
        ("social care", "carers"),
        ("Unpaid carers do not know what support they can ask for until they reach a crisis.",),
    ),
    Topic(
        ("homelessness prevention", "temporary accommodation", "housing allocations"),
        (112, 103, 92),
        ("housing", "homelessness", "prevention"),
        (
            "People at risk of homelessness come to us too late because they do not know we can help earlier.",
            "Temporary accommodation bookings are managed in a spreadsheet shared by email.",
            "The housing register form takes an hour to complete and most applications are missing documents.",
        ),
    ),
    Topic(
        ("free school meals", "school uniform grants"),
        (4,),
        ("education", "benefits", "children"),
        ("Families who qualify for free school meals do not claim them because the form asks for evidence twice.",),
    ),
    Topic(
        ("housing benefit claims", "benefit changes of circumstances"),
        (69, 70, 68),
        ("benefits", "revenues", "self-service"),
        ("Claimants report changes of circumstances late because the form is hard to find and harder to finish.",),
    ),
    Topic(
        ("library membership", "library reservations", "library computer bookings"),
        (438, 441, 442),
        ("libraries", "digital inclusion"),
        (
            "Joining the library needs a visit with proof of address, which puts people off.",
            "Library computers are booked on paper sign-up sheets at the desk.",
        ),
    ),
    Topic(
        ("births and deaths registration", "register office appointments"),
        (319, 321),
        ("registration", "appointments", "bereavement"),
        ("Bereaved families phone several times to book a death registration appointment.",),
    ),
    Topic(
        ("electoral registration", "canvass responses"),
        (364, 362),
        ("elections", "data"),
        ("The annual canvass sends paper forms to every home and most are returned unchanged.",),
    ),
    Topic(
        ("licensing applications", "taxi licensing", "street trading licences"),
        (400, 275, 742),
        ("licensing", "applications", "payments"),
        ("Licence renewals are sent as paper forms with cheques, and we chase missing documents by post.",),
    ),
    Topic(
        ("noise complaints", "nuisance reports"),
        (412, 416),
        ("environmental health", "reporting"),
        ("Noise complaints are logged as free text, so patterns across an area are never spotted.",),
    ),
    Topic(
        ("pest control bookings",),
        (431,),
        ("environmental health", "bookings", "online payments"),
        ("Pest control visits are booked by phone and paid for at the door.",),
    ),
    Topic(
        ("allotment waiting lists", "allotment lettings"),
        (510,),
        ("parks", "waiting lists"),
        ("Allotment waiting lists are kept in spreadsheets by volunteers and nobody knows their place in the queue.",),
    ),
    Topic(
        ("tree works requests", "tree preservation orders"),
        (505, 508),
        ("parks", "trees", "planning"),
        ("Requests about council trees arrive by email and are not linked to the tree they are about.",),
    ),
    Topic(
        ("dropped kerb applications",),
        (477,),
        ("highways", "applications"),
        ("Dropped kerb applications need a site visit even when the answer is obvious from the map.",),
    ),
    Topic(
        ("commercial waste contracts", "trade waste collections"),
        (517, 519),
        ("waste", "businesses", "payments"),
        ("Businesses sign trade waste contracts on paper and we invoice them by hand every quarter.",),
    ),
    Topic(
        ("road gritting information", "winter maintenance"),
        (561,),
        ("highways", "winter", "open data"),
        ("Residents phone in every cold night to ask whether their road will be gritted.",),
    ),
    Topic(
        ("school transport applications", "home to school transport"),
        (3,),
        ("education", "transport", "children"),
        ("Parents apply for school transport on paper every summer and routes are planned in spreadsheets.",),
    ),
    Topic(
        ("children's centre bookings", "family hub sessions"),
        (53,),
        ("children", "families", "bookings"),
        ("Families cannot see which children's centre sessions have space without phoning each centre.",),
    ),
    Topic(
        ("foster carer recruitment", "fostering enquiries", "adoption enquiries"),
        (159, 160),
        ("children", "fostering", "recruitment"),
        ("Half of people who enquire about fostering never hear back within a week and give up.",),
    ),
    Topic(
        ("occupational therapy referrals", "home adaptations"),
        (180,),
        ("social care", "adaptations", "health"),
        ("People wait months for an occupational therapy visit for a simple grab rail.",),
    ),
    Topic(
        ("community alarms", "telecare services", "technology-enabled care"),
        (313,),
        ("social care", "telecare", "technology"),
        ("Analogue telecare alarms stop working when phone lines move to digital, and we do not know who has one.",),
    ),
    Topic(
        ("abandoned vehicle reports", "nuisance parking reports"),
        (372,),
        ("enforcement", "reporting", "vehicles"),
        ("Abandoned vehicle reports need the registration and a photo, which the form does not ask for.",),
    ),
    Topic(
        ("stray dog reports", "dog warden services"),
        (432,),
        ("animals", "enforcement"),
        ("Stray dogs are reported out of hours to a phone line that cannot see the kennel booking system.",),
    ),
    Topic(
        ("food business registration", "food hygiene inspections"),
        (390, 410),
        ("environmental health", "businesses", "inspections"),
        ("New food businesses register on a PDF form, so inspections are planned from an out-of-date list.",),
    ),
    Topic(
        ("business rates relief", "business rates accounts"),
        (55, 56, 54),
        ("revenues", "businesses", "self-service"),
        ("Small businesses miss out on rates relief because the application asks for accounts they do not have.",),
    ),
    Topic(
        ("roadworks information", "road closures"),
        (569, 570),
        ("highways", "open data", "roadworks"),
        ("Residents hear about road closures from the diversion signs because notices are buried in PDFs.",),
    ),
    Topic(
        ("bus stop and shelter faults",),
        (637,),
        ("transport", "reporting"),
        ("Broken bus shelters are reported to the council, the bus company and the advertiser, and nobody acts.",),
    ),
    Topic(
        ("tenancy changes", "new tenancy sign-ups"),
        (711, 713),
        ("housing", "tenants", "self-service"),
        ("New tenants sign a thick paper agreement in the office and take a day off work to do it.",),
    ),
    Topic(
        ("landlord licensing", "houses in multiple occupation licensing"),
        (717,),
        ("housing", "licensing", "private rented sector"),
        ("Landlord licence applications arrive incomplete and inspections are booked by email.",),
    ),
    Topic(
        ("adult safeguarding referrals",),
        (731,),
        ("social care", "safeguarding"),
        ("Safeguarding referrals come in by email in every format and are triaged by hand.",),
    ),
    Topic(
        ("complaints handling", "member enquiries"),
        (353,),
        ("complaints", "case management"),
        ("Complaints are logged in different systems by each service, so we cannot see patterns or deadlines.",),
    ),
    Topic(
        ("wedding and ceremony bookings",),
        (317,),
        ("registration", "bookings", "online payments"),
        ("Couples phone to check ceremony dates and pay deposits by cheque.",),
    ),
    Topic(
        ("market stall lettings",),
        (616,),
        ("markets", "bookings", "businesses"),
        ("Traders book market stalls by turning up early on the day, so nobody knows how many pitches are free.",),
    ),
    Topic(
        ("street naming and numbering",),
        (513,),
        ("addresses", "data standards", "planning"),
        ("Developers wait weeks for new addresses, and utilities cannot connect homes until they have them.",),
    ),
    Topic(
        ("parks maintenance requests", "grass verge cutting"),
        (709, 574),
        ("parks", "grounds maintenance", "reporting"),
        ("Residents report overgrown verges and broken play equipment to the wrong team.",),
    ),
)

APPROACHES = (
    "Online {subject}",
    "Simpler {subject}",
    "Self-service {subject}",
    "Joined-up {subject}",
    "Faster {subject}",
    "Digital {subject}",
    "Better {subject}",
    "Redesigning {subject}",
    "Automating {subject}",
    "Accessible {subject}",
    "A shared service for {subject}",
    "Fixing {subject} end to end",
    "Reducing phone calls about {subject}",
    "Open data for {subject}",
    "A common form for {subject}",
    "Case management for {subject}",
)
SETTINGS = ("", "", "", " for residents", " for staff", " across {region}", " in {council}", " pilot", " discovery")
SUMMARIES = (
    "Let residents do it online at any time, and see where things are up to.",
    "Cut repeat calls and re-keying by joining up the form and the back-office system.",
    "Design one service with other councils instead of each building their own.",
    "Understand what residents need before buying another system.",
    "Reuse a pattern that already works elsewhere and share what we learn.",
    "Give staff one place to see every request and what happens next.",
)
GENERIC_PROBLEMS = (
    "Staff re-key the same details from emails into the back-office system.",
    "Demand peaks on Mondays and after bank holidays, and calls go unanswered.",
    "Residents who are less confident online need another way in that works as well.",
    "Nobody can tell how long requests take, because the data sits in three systems.",
    "The supplier contract ends next year and we want to know what to replace it with.",
    "Other councils have the same problem and we would rather solve it once.",
    "Paper forms are scanned, emailed and printed again before anyone acts on them.",
    "Residents are asked for information we already hold.",
)
DESCRIPTIONS = (
    "We have run a short discovery with residents and front-line staff.",
    "We want to work in the open and publish our research, designs and code.",
    "We are looking for partner councils with the same **back-office system**.",
    "We would like help with:\n\n- user research\n- service design\n- integration with the case system",
    "Our show and tells are open to anyone working in local government.",
    "We expect to reuse the GOV.UK Design System and a common data standard.",
)
ROLES = (
    "User researcher",
    "Service designer",
    "Content designer",
    "Developer",
    "Delivery manager",
    "Product manager",
    "Data analyst",
    "Interaction designer",
    "Business analyst",
    "Technical architect",
)
FIRST_NAMES = (
    "Amira Ben Carys Dev Ellie Fraser Grace Harpreet Iwan Jess Kofi Laura Morgan Niamh Omar Priya Rhys Sam Tomasz Zara"
).split()
LAST_NAMES = (
    "Ahmed Brown Campbell Davies Evans Fletcher Gill Hughes Iqbal Jones Kaur Lewis Morgan Nowak Owen Patel Reid Shah"
).split()
JOB_TITLES = ("Digital lead", "Service manager", "Product owner", "Business analyst", "Transformation officer", "")
PHASE_WEIGHTS = {"idea": 25, "discovery": 25, "alpha": 15, "beta": 10, "live": 12, "retired": 5, "stopped": 8}
PATH = ("idea", "discovery", "alpha", "beta", "live", "retired")


def zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    """Weights for a skewed choice: the first is chosen most, the last least."""
    return [1 / (rank**exponent) for rank in range(1, count + 1)]


def _phase_path(rng: random.Random, final: str) -> list[str]:
    """The phases a project went through to reach `final`, starting as an idea or in discovery."""
    if final == "stopped":
        stopped_in = rng.choice(PATH[:5])
        path = list(PATH[: PATH.index(stopped_in) + 1]) + ["stopped"]
    else:
        path = list(PATH[: PATH.index(final) + 1])
    if len(path) > 1 and path[0] == "idea" and rng.random() < 0.5:
        path = path[1:]
    return path


def generate(scale: float, seed: int, echo: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Add demo officers and projects to an empty database; returns how many rows of each went in."""
    if scale <= 0 or scale > 10:
        raise InvalidInput("Scale must be more than 0 and at most 10 (1 is 100,000 projects)")
    if db.session.scalar(select(func.count()).select_from(Project)):
        raise InvalidInput("The database already has projects: demo data only goes into a database without any")
    councils = db.session.execute(select(Council.id, Council.name, Council.region)).all()
    if not councils:
        raise InvalidInput("Load the reference data first: flask load-reference-data")
    known_services = {row.id: row.label for row in db.session.execute(select(Service.id, Service.label))}
    missing = sorted({s for topic in TOPICS for s in topic.services} - set(known_services))
    if missing:
        raise InvalidInput(f"LGSL services missing from the reference data: {missing}")

    rng = random.Random(seed)
    anchor = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    project_count = max(1, round(FULL_SCALE_PROJECTS * scale))
    user_count = max(2, round(FULL_SCALE_USERS * scale))
    counts: dict[str, int] = {}
    councils = sorted(councils, key=lambda c: c.id)
    council_by_id = {c.id: c for c in councils}
    council_order = councils[:]
    rng.shuffle(council_order)  # which councils are the busiest
    council_weights = zipf_weights(len(council_order), 0.8)

    # Officers: one password hash nobody knows, so demo accounts cannot sign in.
    password_hash = hash_password(f"demo-{seed}-{rng.random()}")
    first_user = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    users, users_by_council = [], {}
    for number in range(user_count):
        council = rng.choices(council_order, council_weights)[0]
        user_id = first_user + number
        users.append(
            {
                "id": user_id,
                "email": f"officer{user_id}@{DEMO_EMAIL_DOMAIN}",
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "job_title": rng.choice(JOB_TITLES),
                "council_id": council.id,
                "password_hash": password_hash,
                "role": "officer",
                "email_verified_at": anchor - timedelta(days=rng.randint(30, 1500)),
                "session_token": f"demo-{user_id}",
                "created_at": anchor - timedelta(days=rng.randint(1500, 1600)),
            }
        )
        users_by_council.setdefault(council.id, []).append(user_id)
    counts["users"] = _insert(User, users)
    user_ids = [u["id"] for u in users]
    user_council = {u["id"]: u["council_id"] for u in users}

    tag_names = sorted({tag for topic in TOPICS for tag in topic.tags} | {"chatbots", "ai", "open source", "apis"})
    existing_tags = dict(db.session.execute(select(Tag.name, Tag.id)).all())
    next_tag = (db.session.scalar(select(func.max(Tag.id))) or 0) + 1
    new_tags = []
    for name in tag_names:
        if name not in existing_tags:
            existing_tags[name] = next_tag
            new_tags.append({"id": next_tag, "name": name, "slug": slugify(name)})
            next_tag += 1
    counts["tags"] = _insert(Tag, new_tags)

    topic_weights = zipf_weights(len(TOPICS), 0.6)
    phases, phase_weights = list(PHASE_WEIGHTS), list(PHASE_WEIGHTS.values())
    first_project = (db.session.scalar(select(func.max(Project.id))) or 0) + 1
    rows: dict[str, list[dict]] = {
        "projects": [],
        "councils": [],
        "members": [],
        "services": [],
        "tags": [],
        "needs": [],
        "phases": [],
    }
    totals = dict.fromkeys(rows, 0)
    tables = {
        "projects": Project,
        "councils": ProjectCouncil,
        "members": ProjectMember,
        "services": ProjectService,
        "tags": ProjectTag,
        "needs": PeopleNeed,
        "phases": PhaseChange,
    }

    def flush() -> None:
        for name, model in tables.items():  # parents first
            totals[name] += _insert(model, rows[name])
            rows[name] = []

    for number in range(project_count):
        project_id = first_project + number
        topic = rng.choices(TOPICS, topic_weights)[0]
        owner = rng.choice(user_ids)
        lead_council = council_by_id[user_council[owner]]
        subject = rng.choice(topic.subjects)
        title = rng.choice(APPROACHES).format(subject=subject)
        title += rng.choice(SETTINGS).format(region=lead_council.region, council=lead_council.name)
        title = title[0].upper() + title[1:]
        problem_sentences = rng.sample(topic.problems, k=min(len(topic.problems), rng.randint(1, 2)))
        problem_sentences += rng.sample(GENERIC_PROBLEMS, k=rng.randint(1, 3))
        description = "\n\n".join(rng.sample(DESCRIPTIONS, k=rng.randint(0, 3)))
        created = anchor - timedelta(days=rng.randint(0, 1460), minutes=rng.randint(0, 1439))
        final = rng.choices(phases, phase_weights)[0]
        path = _phase_path(rng, final)
        # Most projects show signs of life within 90 days; the rest are dormant.
        active = max(created, anchor - timedelta(days=rng.randint(0, 80 if rng.random() < 0.6 else 900)))
        closed = final in ("retired", "stopped")
        rows["projects"].append(
            {
                "id": project_id,
                "slug": f"{slugify(title)[:100]}-{project_id}",
                "title": title[:150],
                "summary": rng.choice(SUMMARIES),
                "problem": "\n\n".join(problem_sentences),
                "description": description,
                "phase": final,
                "lead_council_id": lead_council.id,
                "created_by_id": owner,
                "money_target": rng.choice([None, None, 5_000, 10_000, 25_000, 50_000, 120_000]),
                "outcome": "The project ended; the report is on our website." if closed else "",
                "lessons": "Test with residents early and agree data standards first." if closed else "",
                "created_at": created,
                "updated_at": active,
                "active_at": active,
                "dormancy_notified_at": None,
            }
        )
        partners = {lead_council.id}
        rows["councils"].append(
            {"project_id": project_id, "council_id": lead_council.id, "role": "lead", "state": "committed",
             "added_by_id": owner, "added_at": created}
        )  # fmt: skip
        for _ in range(rng.choices([0, 1, 2, 3, 5], [40, 30, 15, 10, 5])[0]):
            partner = rng.choices(council_order, council_weights)[0]
            if partner.id in partners:
                continue
            partners.add(partner.id)
            rows["councils"].append(
                {"project_id": project_id, "council_id": partner.id, "role": rng.choice(["partner", "observer"]),
                 "state": rng.choice(["interested", "committed"]), "added_by_id": owner, "added_at": created}
            )  # fmt: skip
        rows["members"].append({"project_id": project_id, "user_id": owner, "role": "owner", "joined_at": created})
        colleagues = users_by_council.get(lead_council.id, [])
        for colleague in set(rng.sample(colleagues, k=min(len(colleagues), rng.randint(0, 2)))) - {owner}:
            rows["members"].append(
                {"project_id": project_id, "user_id": colleague, "role": "member", "joined_at": created}
            )
        for service_id in rng.sample(topic.services, k=rng.randint(1, len(topic.services))):
            rows["services"].append({"project_id": project_id, "service_id": service_id})
        for tag in rng.sample(topic.tags, k=rng.randint(0, len(topic.tags))):
            rows["tags"].append({"project_id": project_id, "tag_id": existing_tags[tag]})
        if not closed:
            for role in rng.sample(ROLES, k=rng.choices([0, 1, 2, 3], [40, 30, 20, 10])[0]):
                rows["needs"].append(
                    {"project_id": project_id, "role": role, "days": rng.choice([5, 10, 20, 40]),
                     "start_date": None, "end_date": None}
                )  # fmt: skip
        step = (active - created) / max(1, len(path) - 1)
        for index, phase in enumerate(path):
            rows["phases"].append(
                {
                    "project_id": project_id,
                    "from_phase": path[index - 1] if index else None,
                    "to_phase": phase,
                    "note": "Project posted" if not index else f"Moved on to {phase} after show and tell.",
                    "evidence_url": "",
                    "changed_by_id": owner,
                    "changed_at": created + step * index,
                }
            )
        if len(rows["projects"]) >= BATCH_SIZE:
            flush()
            db.session.commit()
            echo(f"{number + 1:,} of {project_count:,} projects")
    flush()
    _advance_sequences()
    db.session.commit()
    counts.update({f"project {name}" if name != "projects" else name: total for name, total in totals.items()})
    echo("Indexing projects for search")
    counts["search documents"] = search.rebuild()["added"]
    _vacuum_analyze()
    return counts


def _insert(model, rows: list[dict]) -> int:
    """Core executemany, in batches."""
    for start in range(0, len(rows), BATCH_SIZE):
        db.session.execute(insert(model.__table__), rows[start : start + BATCH_SIZE])
    return len(rows)


def _vacuum_analyze() -> None:
    """On PostgreSQL, vacuum and gather the planner's statistics for the rows just added, as autovacuum would in
    time (where it runs). Without the statistics it plans as if the tables were nearly empty: a search on 100,000
    projects read its page by the wrong index and took over a second. Without the vacuum no page is marked as
    all visible, so every row a search reads is checked against the transactions that wrote it: a common word's
    matches took three times as long to read."""
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def _advance_sequences() -> None:
    """On PostgreSQL, move the id sequences past the ids given explicitly, so later inserts do not collide."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("users", "tags", "projects"):
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )
