"""Synthetic Vietnamese personal names (SPEC Appendix A).

Family names follow the national frequencies of Appendix A (Nguyễn ≈ 38 %, Trần ≈ 11 %…);
the rest is spread over less common family names. A name is family name, one or two middle
names and a given name, always NFC with its diacritics: "Nguyễn Thị Thu Hà", "Trần Văn Minh".
The people are synthetic; any likeness to a real person is chance.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta
from itertools import accumulate

# Appendix A frequencies (percent); Hoàng/Huỳnh and Vũ/Võ split the shared share, the
# northern spelling dominating in Hà Nội.
FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.0),
    ("Trần", 11.0),
    ("Lê", 9.5),
    ("Phạm", 7.0),
    ("Hoàng", 4.5),
    ("Huỳnh", 0.5),
    ("Phan", 4.5),
    ("Vũ", 3.5),
    ("Võ", 0.5),
    ("Đặng", 2.0),
    ("Bùi", 2.0),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1.0),
    ("Lý", 0.5),
    # the remaining ≈ 12 %
    ("Đinh", 1.6),
    ("Trịnh", 1.4),
    ("Đào", 1.3),
    ("Lương", 1.0),
    ("Mai", 0.9),
    ("Cao", 0.9),
    ("Tạ", 0.7),
    ("Chu", 0.7),
    ("Hà", 0.7),
    ("Lưu", 0.6),
    ("Kiều", 0.5),
    ("Tô", 0.5),
    ("Nghiêm", 0.4),
    ("Khuất", 0.3),
)

MALE_MIDDLE = ("Văn", "Đức", "Quang", "Minh", "Hữu", "Tuấn", "Thanh", "Mạnh", "Xuân", "Ngọc", "Công", "Duy", "Việt")
MALE_SECOND = ("Anh", "Hoàng", "Trung", "Tiến", "Đình", "Hải", "Quốc", "Thế")
FEMALE_MIDDLE = ("Thị", "Thu", "Thanh", "Ngọc", "Hồng", "Minh", "Phương", "Thùy", "Kim", "Bích", "Diệu", "Hải")
FEMALE_SECOND = ("Thu", "Thanh", "Ngọc", "Hồng", "Minh", "Phương", "Thùy", "Mai", "Lan", "Bích", "Hải", "Vân")

MALE_GIVEN = (
    "Minh", "Huy", "Hùng", "Dũng", "Tuấn", "Nam", "Long", "Hải", "Sơn", "Thắng", "Trung", "Cường",
    "Đức", "Hiếu", "Khánh", "Phong", "Quân", "Thành", "Tùng", "Việt", "Bình", "Hưng", "Hoàng",
    "Kiên", "Lâm", "Nghĩa", "Phúc", "Quang", "Tài", "Thái", "Toàn", "Vinh", "Anh", "Đạt", "Hậu",
    "Khoa", "Lộc", "Mạnh", "Thịnh", "Tiến",
)  # fmt: skip
FEMALE_GIVEN = (
    "Hà", "Hương", "Lan", "Linh", "Mai", "Nga", "Ngọc", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo",
    "Thủy", "Trang", "Vân", "Yến", "Anh", "Dung", "Giang", "Hạnh", "Hằng", "Hoa", "Huyền", "Loan",
    "Ly", "Minh", "Nhàn", "Tâm", "Thu", "Trinh", "Tuyết", "Xuân", "Châu", "Hiền", "Hồng", "Liên",
    "My", "Nhi", "Uyên", "Thúy",
)  # fmt: skip

_FAMILY = tuple(n for n, _ in FAMILY_NAMES)
_FAMILY_CUM = tuple(accumulate(w for _, w in FAMILY_NAMES))


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def person_name(rng: random.Random, female: bool) -> str:
    """A synthetic full name, NFC: family, one or two middle names, given name."""
    family = rng.choices(_FAMILY, cum_weights=_FAMILY_CUM)[0]
    if female:
        middle = [rng.choice(FEMALE_MIDDLE)]
        if middle[0] == "Thị" and rng.random() < 0.45:
            middle.append(rng.choice(FEMALE_SECOND))
        given = rng.choice(FEMALE_GIVEN)
    else:
        middle = [rng.choice(MALE_MIDDLE)]
        if middle[0] != "Văn" and rng.random() < 0.08:
            middle.append(rng.choice(MALE_SECOND))
        given = rng.choice(MALE_GIVEN)
    while given in middle:  # "Nguyễn Thị Minh Minh" reads as a typo
        given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
    return nfc(" ".join([family, *middle, given]))


def birth_date(rng: random.Random, reference: date, min_age: int, max_age: int) -> date:
    """A birth date giving an age in [min_age, max_age] on ``reference``."""
    start = date(reference.year - max_age - 1, reference.month, 1)
    span = (date(reference.year - min_age, reference.month, 1) - start).days
    return start + timedelta(days=rng.randrange(span))


def given_name(full_name: str) -> str:
    """The given name (last word): lists are ordered by position, then by given name."""
    return full_name.rsplit(" ", 1)[-1]
