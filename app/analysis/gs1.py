"""What the first digits of a GTIN say: the GS1 organisation that issued it, or a special use.

Source: GS1's published list of GS1 prefixes ("GS1 Company Prefix", gs1.org/standards/id-keys/
company-prefix), as listed on 2026-11-01. A prefix names the GS1 member organisation that
issued the company number, not the country where the product was made. Three kinds of numbers
identify no product on their own, and identification must not treat them as if they did:
  * restricted circulation numbers (020–029, 040–049, 200–299, and GTIN-8 starting 0 or 2):
    a shop or a company uses them for its own items (weighed goods, in-store labels), so the
    same number means different things in different shops;
  * coupons (050–059, 981–984, 99x) and refund receipts (980);
  * 977 (ISSN, serial publications) and 978/979 (ISBN, books) are real identifiers, of a
    magazine or a book rather than of a manufacturer's product.
"""
from __future__ import annotations

from dataclasses import dataclass

# (first, last, who) over the three-digit prefix of a GTIN-13 (UPC-A gains its leading 0).
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0, 19, "GS1 US (United States and Canada)"),
    (30, 39, "GS1 US (United States drugs, National Drug Code)"),
    (60, 139, "GS1 US (United States and Canada)"),
    (300, 379, "GS1 France (France and Monaco)"),
    (380, 380, "GS1 Bulgaria"), (383, 383, "GS1 Slovenia"), (385, 385, "GS1 Croatia"),
    (387, 387, "GS1 Bosnia and Herzegovina"), (389, 389, "GS1 Montenegro"), (390, 390, "GS1 Kosovo"),
    (400, 440, "GS1 Germany"), (450, 459, "GS1 Japan"), (460, 469, "GS1 Russia"),
    (470, 470, "GS1 Kyrgyzstan"), (471, 471, "GS1 Chinese Taipei"), (474, 474, "GS1 Estonia"),
    (475, 475, "GS1 Latvia"), (476, 476, "GS1 Azerbaijan"), (477, 477, "GS1 Lithuania"),
    (478, 478, "GS1 Uzbekistan"), (479, 479, "GS1 Sri Lanka"), (480, 480, "GS1 Philippines"),
    (481, 481, "GS1 Belarus"), (482, 482, "GS1 Ukraine"), (483, 483, "GS1 Turkmenistan"),
    (484, 484, "GS1 Moldova"), (485, 485, "GS1 Armenia"), (486, 486, "GS1 Georgia"),
    (487, 487, "GS1 Kazakhstan"), (488, 488, "GS1 Tajikistan"), (489, 489, "GS1 Hong Kong"),
    (490, 499, "GS1 Japan"), (500, 509, "GS1 UK"), (520, 521, "GS1 Greece"), (528, 528, "GS1 Lebanon"),
    (529, 529, "GS1 Cyprus"), (530, 530, "GS1 Albania"), (531, 531, "GS1 North Macedonia"),
    (535, 535, "GS1 Malta"), (539, 539, "GS1 Ireland"), (540, 549, "GS1 Belgium & Luxembourg"),
    (560, 560, "GS1 Portugal"), (569, 569, "GS1 Iceland"), (570, 579, "GS1 Denmark"),
    (590, 590, "GS1 Poland"), (594, 594, "GS1 Romania"), (599, 599, "GS1 Hungary"),
    (600, 601, "GS1 South Africa"), (603, 603, "GS1 Ghana"), (604, 604, "GS1 Senegal"),
    (605, 605, "GS1 Uganda"), (606, 606, "GS1 Angola"), (607, 607, "GS1 Oman"), (608, 608, "GS1 Bahrain"),
    (609, 609, "GS1 Mauritius"), (611, 611, "GS1 Morocco"), (613, 613, "GS1 Algeria"),
    (615, 615, "GS1 Nigeria"), (616, 616, "GS1 Kenya"), (617, 617, "GS1 Cameroon"),
    (618, 618, "GS1 Côte d'Ivoire"), (619, 619, "GS1 Tunisia"), (620, 620, "GS1 Tanzania"),
    (621, 621, "GS1 Syria"), (622, 622, "GS1 Egypt"), (623, 623, "GS1 Brunei"), (624, 624, "GS1 Libya"),
    (625, 625, "GS1 Jordan"), (626, 626, "GS1 Iran"), (627, 627, "GS1 Kuwait"),
    (628, 628, "GS1 Saudi Arabia"), (629, 629, "GS1 United Arab Emirates"), (630, 630, "GS1 Qatar"),
    (631, 631, "GS1 Namibia"), (632, 632, "GS1 Rwanda"), (640, 649, "GS1 Finland"),
    (680, 681, "GS1 China"), (690, 699, "GS1 China"), (700, 709, "GS1 Norway"), (729, 729, "GS1 Israel"),
    (730, 739, "GS1 Sweden"), (740, 740, "GS1 Guatemala"), (741, 741, "GS1 El Salvador"),
    (742, 742, "GS1 Honduras"), (743, 743, "GS1 Nicaragua"), (744, 744, "GS1 Costa Rica"),
    (745, 745, "GS1 Panama"), (746, 746, "GS1 Dominican Republic"), (750, 750, "GS1 Mexico"),
    (754, 755, "GS1 Canada"), (759, 759, "GS1 Venezuela"), (760, 769, "GS1 Switzerland"),
    (770, 771, "GS1 Colombia"), (773, 773, "GS1 Uruguay"), (775, 775, "GS1 Peru"), (777, 777, "GS1 Bolivia"),
    (778, 779, "GS1 Argentina"), (780, 780, "GS1 Chile"), (784, 784, "GS1 Paraguay"),
    (786, 786, "GS1 Ecuador"), (789, 790, "GS1 Brazil"), (800, 839, "GS1 Italy"),
    (840, 849, "GS1 Spain"), (850, 850, "GS1 Cuba"), (858, 858, "GS1 Slovakia"), (859, 859, "GS1 Czechia"),
    (860, 860, "GS1 Serbia"), (865, 865, "GS1 Mongolia"), (867, 867, "GS1 North Korea"),
    (868, 869, "GS1 Türkiye"), (870, 879, "GS1 Netherlands"), (880, 881, "GS1 South Korea"),
    (883, 883, "GS1 Myanmar"), (884, 884, "GS1 Cambodia"), (885, 885, "GS1 Thailand"),
    (888, 888, "GS1 Singapore"), (890, 890, "GS1 India"), (893, 893, "GS1 Vietnam"),
    (894, 894, "GS1 Bangladesh"), (896, 896, "GS1 Pakistan"), (899, 899, "GS1 Indonesia"),
    (900, 919, "GS1 Austria"), (930, 939, "GS1 Australia"), (940, 949, "GS1 New Zealand"),
    (950, 950, "GS1 Global Office"), (951, 951, "GS1 Global Office (EPC general manager numbers)"),
    (955, 955, "GS1 Malaysia"), (958, 958, "GS1 Macau"), (960, 969, "GS1 Global Office (GTIN-8)"),
)
# Numbers that identify no manufacturer's product (see the module doc).
_SPECIAL: tuple[tuple[int, int, str, str], ...] = (
    (20, 29, "in-store", "restricted circulation number (in-store code, e.g. weighed goods)"),
    (40, 49, "in-store", "restricted circulation number (for use inside one company)"),
    (50, 59, "coupon", "coupon (GS1 US)"),
    (200, 299, "in-store", "restricted circulation number (in-store code, e.g. weighed goods)"),
    (977, 977, "issn", "serial publication (ISSN)"),
    (978, 979, "isbn", "book (ISBN)"),
    (980, 980, "coupon", "refund receipt"),
    (981, 984, "coupon", "coupon (common currency)"),
    (990, 999, "coupon", "coupon"),
)


@dataclass(frozen=True)
class Gs1Prefix:
    """What a GTIN's prefix says: `kind` is "company" (a manufacturer's product number),
    "in-store", "coupon", "isbn", "issn" or "unknown"; `identifies_product` is False for in-store
    numbers and coupons, whose meaning depends on the shop."""

    prefix: str
    kind: str
    issuer: str

    @property
    def identifies_product(self) -> bool:
        return self.kind in ("company", "isbn", "issn")

    def describe(self) -> str:
        if self.kind == "company":
            return f"GS1 prefix {self.prefix}: issued by {self.issuer}"
        return f"GS1 prefix {self.prefix}: {self.issuer}"


def gs1_prefix(gtin: str) -> Gs1Prefix:
    """Decode the prefix of a GTIN-8/12/13/14 (digits only, check digit not verified here)."""
    digits = gtin.strip()
    if len(digits) == 8:
        if digits[0] in "02":
            return Gs1Prefix(digits[0], "in-store", "restricted circulation number (GTIN-8 in-store code)")
        return _lookup(digits[:3], int(digits[:3]))  # GTIN-8 prefixes: the same table, first three digits
    if len(digits) == 12:
        digits = "0" + digits
    elif len(digits) == 14:
        digits = digits[1:]
    prefix_text = digits[:3]
    if len(digits) != 13 or not prefix_text.isdigit():
        return Gs1Prefix(prefix_text, "unknown", "not a GTIN")
    return _lookup(prefix_text, int(prefix_text))


def _decode(prefix: int) -> Gs1Prefix:
    text = f"{prefix:03d}"
    for first, last, kind, what in _SPECIAL:
        if first <= prefix <= last:
            return Gs1Prefix(text, kind, what)
    for first, last, who in _RANGES:
        if first <= prefix <= last:
            return Gs1Prefix(text, "company", who)
    return Gs1Prefix(text, "unknown", "a prefix GS1 has not assigned")


# All thousand three-digit prefixes decoded once: a million-row import asks a million times.
_TABLE = tuple(_decode(p) for p in range(1000))


def _lookup(prefix_text: str, prefix: int) -> Gs1Prefix:
    return _TABLE[prefix]
