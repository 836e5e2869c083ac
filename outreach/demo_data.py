"""A realistic sample dealership, written as the four CSV files a DMS export would give.

Deterministic for a seed and relative to ``today``, so there is always someone due: customers
with Chinese and English names, one or two cars, visit histories with mileage, and work that
was deferred at the last visit.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "军",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "丽娟",
    "海燕",
    "晓东",
]
ENGLISH_FIRST = [
    "James",
    "Emma",
    "Oliver",
    "Sophie",
    "Daniel",
    "Grace",
    "Michael",
    "Chloe",
    "David",
    "Lucy",
]
ENGLISH_LAST = [
    "Smith",
    "Brown",
    "Wilson",
    "Taylor",
    "Clarke",
    "Walker",
    "Hughes",
    "Evans",
    "Turner",
    "Hill",
]
MODELS = [
    ("Volkswagen Lavida", "LSVAU2180"),
    ("Volkswagen Tiguan L", "LSVUX6187"),
    ("Toyota Camry", "LVGBE40K8"),
    ("Honda Accord", "LHGCV1658"),
    ("Buick Excelle GT", "LSGKB54H4"),
    ("BYD Qin PLUS", "LGXCE4CB1"),
    ("Nissan Sylphy", "LGBH52E04"),
]
MOBILE_PREFIXES = [
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "158",
    "159",
    "186",
    "188",
    "189",
]
PLATE_PREFIX = ["沪A", "沪B", "沪C", "苏E", "浙A"]
ADVISORS = [("A01", "王芳"), ("A02", "张伟")]  # as in the example [capacity] advisors
DEFERRED = {
    "zh-CN": [
        ("后刹车片剩余 30%，建议两个月内更换", "safety"),
        ("前轮胎花纹深度 2.5 毫米，建议更换", "high"),
        ("蓄电池电量偏低，入冬前建议更换", "medium"),
        ("雨刮片老化", "low"),
        ("空调滤芯脏污，建议更换", "low"),
    ],
    "en": [
        ("Rear brake pads at 30%, replace within two months", "safety"),
        ("Front tyres at 2.5 mm tread, replace soon", "high"),
        ("Battery weak, replace before winter", "medium"),
        ("Wiper blades worn", "low"),
        ("Cabin air filter dirty, replace", "low"),
    ],
}


@dataclass(frozen=True)
class DemoFiles:
    directory: Path
    customers: int
    vehicles: int
    visits: int
    deferred: int


def write_demo_files(
    directory: Path, *, today: date, customers: int = 300, seed: int = 7
) -> DemoFiles:
    """Write customers.csv, vehicles.csv, visits.csv and deferred_work.csv into ``directory``."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list[object]]] = {
        "customers": [],
        "vehicles": [],
        "visits": [],
        "deferred_work": [],
    }
    vehicle_no = visit_no = item_no = 0
    for n in range(1, customers + 1):
        english = rng.random() < 0.2
        locale = "en" if english else "zh-CN"
        if english:
            name = f"{rng.choice(ENGLISH_FIRST)} {rng.choice(ENGLISH_LAST)}"
        else:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        abroad = english and rng.random() < 0.15
        if abroad:
            phone = f"+1 415 {rng.randint(200, 989)} {rng.randint(1000, 9999)}"
            zone = "America/Los_Angeles"
        else:
            digits = f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(10_000_000, 99_999_999)}"
            phone, zone = f"{digits[:3]} {digits[3:7]} {digits[7:]}", ""
        consent = "yes" if rng.random() < 0.92 else "no"
        channel = "voice" if rng.random() < 0.15 else "sms"
        customer_id = f"C{n:05d}"
        rows["customers"].append([customer_id, name, phone, locale, consent, zone, channel])
        for _ in range(2 if rng.random() < 0.1 else 1):
            vehicle_no += 1
            vehicle_id = f"V{vehicle_no:05d}"
            model, wmi = rng.choice(MODELS)
            year = rng.randint(2015, 2025)
            plate = f"{rng.choice(PLATE_PREFIX)}·{rng.randint(10000, 99999)}"
            vin = f"{wmi}{rng.randint(10**7, 10**8 - 1)}"
            rows["vehicles"].append([vehicle_id, customer_id, vin, plate, model, year])
            visit_no, item_no = _history(rng, rows, vehicle_id, locale, today, visit_no, item_no)
    headers = {
        "customers": [
            "customer_id",
            "name",
            "phone",
            "locale",
            "consent",
            "timezone",
            "preferred_channel",
        ],
        "vehicles": ["vehicle_id", "customer_id", "vin", "plate", "model", "model_year"],
        "visits": [
            "visit_id",
            "vehicle_id",
            "date",
            "odometer_km",
            "type",
            "advisor",
            "advisor_name",
        ],
        "deferred_work": [
            "item_id",
            "vehicle_id",
            "visit_id",
            "description",
            "severity",
            "due_by",
            "found_during_repair",
        ],
    }
    for name, header in headers.items():
        with (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows[name])
    return DemoFiles(directory, customers, vehicle_no, visit_no, item_no)


def _history(
    rng: random.Random, rows, vehicle_id: str, locale: str, today: date, visit_no: int, item_no: int
):
    km_per_day = rng.randint(15, 80)
    day = today - timedelta(days=rng.randint(200, 1000))
    km = rng.randint(500, 40_000)
    last_visit = None
    while True:
        visit_no += 1
        kind = rng.choices(
            ["maintenance", "inspection", "repair", "accident", "detailing"], [60, 8, 20, 3, 9]
        )[0]
        reading = "" if rng.random() < 0.06 else str(km)
        code, advisor = rng.choice(ADVISORS)
        visit_id = f"S{visit_no:06d}"
        rows["visits"].append([visit_id, vehicle_id, day.isoformat(), reading, kind, code, advisor])
        last_visit = (visit_id, day, kind)
        step = rng.randint(45, 130)
        if day + timedelta(days=step) >= today:
            break
        day += timedelta(days=step)
        km += step * km_per_day + rng.randint(-200, 200)
    visit_id, day, kind = last_visit
    if rng.random() < 0.22:
        item_no += 1
        description, severity = rng.choice(DEFERRED[locale])
        due_by = day + timedelta(days=rng.randint(20, 90))
        found = "yes" if kind == "repair" and rng.random() < 0.5 else "no"
        rows["deferred_work"].append(
            [
                f"D{item_no:05d}",
                vehicle_id,
                visit_id,
                description,
                severity,
                due_by.isoformat(),
                found,
            ]
        )
    return visit_no, item_no
