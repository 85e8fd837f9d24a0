#!/usr/bin/env python3
"""Write the parity cases (``test/fixtures/parity/cases.jsonl``) deterministically.

Why a generator rather than a hand-edited file: some texts must have an exact
number of GLiNER words (384 = tiny-span's ``max_len``, 256 = tiny-token's),
counted with the reference's own word splitter, and the file is easier to
review as Python than as escaped JSON.  Output is ASCII-only JSON Lines
(``ensure_ascii``) so that no reader splits a line at U+0085, U+001C or
U+2028 inside a text.

Texts: the example paragraphs of the seed model cards (quoted verbatim, see
``test/fixtures/models/README.md``), news paragraphs written for these fixtures
(fictional details, realistic style), and Unicode/degenerate edge cases.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gliner_tools import env  # noqa: E402

env.configure(offline=True)

from gliner.data_processing.tokenizer import WhitespaceTokenSplitter  # noqa: E402

from gliner_tools import construct  # noqa: E402

DEFAULT_OUT = env.REPO_ROOT / "test" / "fixtures" / "parity" / "cases.jsonl"

# --- model-card examples (verbatim, including the leading/trailing newlines of the cards' triple-quoted strings)

CARD_NEWS_SSPE = (
    "\nThe Chihuahua State Public Security Secretariat (SSPE) arrested 35-year-old Salomón C. T. in Ciudad Juárez, "
    "found in possession of a stolen vehicle, a white GMC Yukon, which was reported stolen in the city's streets. "
    "The arrest was made by intelligence and police analysis personnel during an investigation in the border city. "
    "The arrest is related to a previous detention on February 6, which involved armed men in a private vehicle. "
    "The detainee and the vehicle were turned over to the Chihuahua State Attorney General's Office for further "
    "investigation into the case. \n"
)
CARD_NEWS_LABELS = ["person", "location", "date", "event", "facility", "vehicle", "number", "organization"]

CARD_MICROSOFT = (
    "Microsoft was founded by Bill Gates and Paul Allen on April 4, 1975 to develop and sell BASIC interpreters "
    "for the Altair 8800. During his career at Microsoft, Gates held the positions of chairman, chief executive "
    "officer, president and chief software architect, while also being the largest individual shareholder until "
    "May 2014."
)

CARD_RONALDO = (
    "\nCristiano Ronaldo dos Santos Aveiro (Portuguese pronunciation: [kɾiʃˈtjɐnu ʁɔˈnaldu]; born 5 February 1985) "
    "is a Portuguese professional footballer who plays as a forward for and captains both Saudi Pro League club "
    "Al Nassr and the Portugal national team. Widely regarded as one of the greatest players of all time, Ronaldo "
    "has won five Ballon d'Or awards,[note 3] a record three UEFA Men's Player of the Year Awards, and four European "
    "Golden Shoes, the most by a European player. He has won 33 trophies in his career, including seven league "
    "titles, five UEFA Champions Leagues, the UEFA European Championship and the UEFA Nations League. Ronaldo holds "
    "the records for most appearances (183), goals (140) and assists (42) in the Champions League, goals in the "
    "European Championship (14), international goals (128) and international appearances (205). He is one of the "
    "few players to have made over 1,200 professional career appearances, the most by an outfield player, and has "
    "scored over 850 official senior career goals for club and country, making him the top goalscorer of all time.\n"
)
CARD_RONALDO_LABELS = ["Person", "Award", "Date", "Competitions", "Teams"]

# --- news paragraphs written for the fixtures

NEWS = {
    "headline": "Ukraine and Poland sign grain transit deal in Warsaw",
    "recall": (
        "Tesla is recalling more than 2 million vehicles in the United States to fix its Autopilot system, "
        "the National Highway Traffic Safety Administration said on Wednesday."
    ),
    "fed": (
        "The Federal Reserve held interest rates steady at 5.25% to 5.5% on Wednesday, and Chair Jerome Powell "
        "signalled that three cuts could come in 2024 if inflation keeps cooling."
    ),
    "football": (
        "Manchester City beat Real Madrid 4-0 at the Etihad Stadium on Wednesday night to reach the Champions "
        "League final in Istanbul, where Pep Guardiola's side will face Inter Milan on June 10."
    ),
    "kishida": (
        "Japan's Prime Minister Fumio Kishida arrived in Kyiv on Tuesday for talks with President Volodymyr "
        "Zelensky, becoming the last G7 leader to visit Ukraine since Russia's invasion began in February 2022."
    ),
    "novo": (
        "Shares of Novo Nordisk climbed 7% in Copenhagen after the Danish drugmaker raised its full-year sales "
        "forecast, citing strong demand for its obesity drug Wegovy in the United States and Germany."
    ),
    "webb": (
        "NASA's James Webb Space Telescope has detected carbon dioxide in the atmosphere of WASP-39b, a gas giant "
        "orbiting a star about 700 light-years from Earth, researchers wrote in the journal Nature."
    ),
    "brazil": (
        "Brazil's electoral court confirmed on Sunday night that Luiz Inácio Lula da Silva had won the presidential "
        "run-off with 50.9% of the vote, narrowly defeating the incumbent Jair Bolsonaro. Lula, who governed the "
        "country from 2003 to 2010, promised in a speech on Avenida Paulista in São Paulo to reunite a divided "
        "nation and to end illegal logging in the Amazon rainforest. Bolsonaro did not concede for almost two days, "
        "while truck drivers loyal to him blocked highways in Santa Catarina, Mato Grosso and Paraná. Leaders "
        "including Joe Biden, Emmanuel Macron and Xi Jinping congratulated the winner, and the European Union said "
        "it was ready to finalise its trade agreement with the Mercosur bloc. Markets reacted calmly: the real "
        "gained 2.1% against the dollar and the Bovespa index closed little changed on Monday."
    ),
    "pakistan": (
        "Floods caused by record monsoon rains have killed more than 1,100 people in Pakistan since mid-June, the "
        "National Disaster Management Authority said, as Prime Minister Shehbaz Sharif appealed for international aid "
        "from Islamabad."
    ),
    "activision": (
        "Microsoft completed its $68.7 billion acquisition of Activision Blizzard on Friday after Britain's "
        "Competition and Markets Authority approved a restructured deal that hands cloud streaming rights to Ubisoft."
    ),
    "ftx": (
        "A federal judge in Manhattan sentenced Sam Bankman-Fried, the founder of the collapsed cryptocurrency "
        "exchange FTX, to 25 years in prison on Thursday for defrauding customers and investors of about $8 billion."
    ),
    "mpox": (
        "The World Health Organization declared the spread of mpox in the Democratic Republic of Congo and "
        "neighbouring countries a public health emergency of international concern, Director-General Tedros Adhanom "
        "Ghebreyesus told reporters in Geneva."
    ),
    "swift": (
        "Taylor Swift's Eras Tour became the first concert tour to gross more than $1 billion, according to "
        "Pollstar, after 60 shows across North and South America."
    ),
    "opec": (
        "OPEC+ agreed in Vienna to extend oil output cuts of 2.2 million barrels per day into the second quarter, "
        "with Saudi Arabia and Russia leading the reductions."
    ),
    "lyon": (
        "Police in Lyon arrested three men suspected of stealing paintings by Claude Monet and Pierre-Auguste Renoir "
        "from the Musée des Beaux-Arts last November."
    ),
    "kenya": (
        "Kenya's parliament approved President William Ruto's finance bill on Tuesday despite protests in Nairobi, "
        "Mombasa and Kisumu that left at least 23 people dead, according to the Kenya National Commission on Human "
        "Rights."
    ),
    "samsung": (
        "Samsung Electronics said operating profit for the July-September quarter fell 78% to 2.4 trillion won as a "
        "global glut of memory chips weighed on prices."
    ),
    "cop28": (
        "Nearly 200 countries meeting at the COP28 climate summit in Dubai agreed on Wednesday to transition away "
        "from fossil fuels, the first time a United Nations climate deal has named oil, gas and coal. The summit's "
        "president, Sultan Al Jaber, who also heads the Abu Dhabi National Oil Company, called the text historic, "
        "but small island states led by Samoa said it contained a litany of loopholes. Negotiators from the United "
        "States, the European Union and China had worked through the night after an earlier draft, published on "
        "Monday, was rejected by more than 100 delegations. The agreement asks governments to triple renewable energy "
        "capacity by 2030 and to accelerate technologies such as carbon capture and storage, which critics including "
        "former U.S. Vice President Al Gore described as a distraction. Saudi Arabia and Iraq, both members of OPEC, "
        "had resisted any mention of a phase-out until the final day. UN Secretary-General António Guterres said the "
        "era of fossil fuels must end with justice and equity, and the host country pledged $30 billion to a new "
        "climate investment fund. The next conference, COP29, will be held in Baku, Azerbaijan, in November 2024, "
        "where negotiators are expected to agree a new target for climate finance for developing nations."
    ),
    "chandrayaan": (
        "India's Chandrayaan-3 mission landed near the Moon's south pole on August 23, 2023, making the Indian Space "
        "Research Organisation the first agency to touch down in that region."
    ),
    "airbus": (
        "Airbus delivered 735 commercial aircraft in 2023, beating its target of 720, while rival Boeing handed over "
        "528 jets amid quality problems with the 737 MAX."
    ),
}

# --- Unicode and formatting edge cases

UNICODE = {
    "accents": (
        "Zürich-based UBS named Sergio Ermotti chief executive, while Salomón Pérez of Crédit Agricole said l'été "
        "would be «difficile» for French banks."
    ),
    "accents-2": (
        "Łódź, Kraków and Gdańsk hosted the Polish championships; Søren Kierkegaard's house in København drew "
        "10 000 visitors; São Paulo's mayor Ricardo Nunes spoke in Brasília."
    ),
    "cjk": "東京都の小池百合子知事は金曜日に記者会見を開いた。",
    "cjk-mixed": "Apple在北京发布了新款iPhone，华为总部位于深圳。Samsung와 LG는 서울에 본사를 두고 있다.",
    "scripts": (
        "Владимир Путин встретился с Си Цзиньпином в Москве. قال محمد بن سلمان في الرياض. "
        "נתניהו ביקר בירושלים. नरेंद्र मोदी ने दिल्ली में भाषण दिया।"
    ),
    "emoji-before": (
        "🚀 SpaceX launched Starship from Boca Chica, Texas 🇺🇸 on Thursday; 🎉 Elon Musk called it a success."
    ),
    "emoji-inside": (
        "The 👩‍🔬 scientist Marie Curie won the Nobel Prize; fans of Star👨‍👩‍👧Wars met in Paris🇫🇷 "
        "and the 🏳️‍🌈 flag flew over Berlin."
    ),
    "zero-width": "Angela\u200bMerkel met Emmanuel Macron\u200b in Berlin on \u200bMonday, said Reuters\u200b.",
    "bom": "\ufeffReuters reported that Nvidia and Open\ufeffAI signed a deal in San\ufeff Francisco.",
    "soft-hyphen": "Bundes\u00adkanzler Olaf Scholz visited the Deutsche Bundes\u00adbank in Frank\u00adfurt am Main.",
    "full-width": (
        "ＮＡＳＡ announced the Ａｒｔｅｍｉｓ mission for ２０２６, "
        "said Ｂｉｌｌ Ｎｅｌｓｏｎ in Ｗａｓｈｉｎｇｔｏｎ."
    ),
    "compat": (
        "The ﬁnance ministry of Finland sold ½ of its stake in the Coca-Cola™ bottler Hartwall; the ﬂight to "
        "Helsinki was delayed by ¼ hour."
    ),
    "controls": "Tesla\u0085Elon Musk\u001cAustin, Texas\u001dGiga Factory\u001e2024\u001fQ3 results",
    "compounds": (
        "The state-of-the-art Rolls-Royce engine_v2 powered Air-India flight AI_101 from New Delhi to "
        "London-Heathrow; co-op members of the Anglo-Saxon well-being club e-mailed T-Mobile."
    ),
    "quotes": "“We’re ready,” said O’Neill of the U.S. Department of State — the so-called ‘Iron Dome’ deal…",
    "numbers": "€4.5bn, $1,200.50, ¥300 and 12.5% were quoted by J.P. Morgan on 2024-03-15 at 09:30 GMT+1.",
}

DEGENERATE = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "one-word": "Obama",
    "one-char": "X",
    "emoji-only": "🙂",
    "zwsp-only": "\u200b",
    "bom-only": "\ufeff",
}

LABELS_1 = ["person"]
LABELS_3 = ["person", "organization", "location"]
LABELS_30 = [
    "person", "organization", "location", "city", "country", "date", "time", "event", "facility", "vehicle",
    "number", "money", "percentage", "product", "sports team", "political party", "government agency", "company",
    "award", "law", "disease", "drug", "weapon", "military unit", "nationality", "religion", "language",
    "book title", "film", "stock ticker symbol",
]
LABELS_DUPLICATES = ["person", "location", "person", "organization", "location", "date"]
LABELS_NEWS = ["person", "organization", "location", "date", "event", "money"]

_SPLITTER = WhitespaceTokenSplitter()


def word_count(text: str) -> int:
    """GLiNER words of ``text`` as the reference's whitespace splitter counts them."""
    return sum(1 for _ in _SPLITTER(text))


def exact_words(sources: list[str], count: int) -> str:
    """Concatenate ``sources`` (cycling) and cut right after the ``count``-th GLiNER word."""
    text = ""
    index = 0
    while word_count(text) < count:
        text = (text + " " + sources[index % len(sources)]).strip()
        index += 1
    end = [end for _, _, end in _SPLITTER(text)][count - 1]
    result = text[:end]
    assert word_count(result) == count
    return result


@functools.cache
def _tokenizer() -> Any:
    return construct.load_tokenizer(env.FIXTURE_TOKENIZER_DIR)


def subtoken_count(text: str, labels: list[str]) -> int:
    """Sub-tokens the reference feeds for ``text`` with ``labels``: CLS + prompt words + text words + SEP."""
    tokenizer = _tokenizer()
    words = [w for label in labels for w in ("<<ENT>>", label)] + ["<<SEP>>"] + [w for w, _, _ in _SPLITTER(text)]
    return 2 + sum(len(ids) for ids in tokenizer(words, add_special_tokens=False)["input_ids"])


def case(case_id: str, texts: list[str], labels: list[str], threshold: float = 0.5, flat_ner: bool = True,
         multi_label: bool = False, batch_size: int = 8, **extra: Any) -> dict[str, Any]:
    return {"id": case_id, "texts": texts, "labels": labels, "threshold": threshold, "flat_ner": flat_ner,
            "multi_label": multi_label, "batch_size": batch_size, **extra}


def build_cases() -> list[dict[str, Any]]:
    long_pool = [NEWS["cop28"], NEWS["brazil"], NEWS["pakistan"], NEWS["mpox"], NEWS["kenya"], NEWS["opec"],
                 CARD_MICROSOFT]
    text_384 = exact_words(long_pool, 384)
    # Names, numbers and non-Latin scripts: many sub-tokens per word, so that with 30 labels the
    # sequence is longer than DeBERTa's 512 positions although the text is within max_len.
    dense_pool = [CARD_RONALDO.strip(), UNICODE["scripts"], UNICODE["numbers"], UNICODE["accents-2"],
                  UNICODE["compounds"], UNICODE["full-width"], NEWS["samsung"], NEWS["webb"]]
    text_384_dense = exact_words(dense_pool, 384)
    assert subtoken_count(text_384_dense, LABELS_30) > 512
    text_256 = exact_words(long_pool[1:] + long_pool[:1], 256)
    text_120 = exact_words([NEWS["brazil"], NEWS["ftx"]], 120)
    n = NEWS
    mixed = [
        "", "Paris", "Obama visited Kenya.", n["headline"], n["recall"], n["swift"], UNICODE["emoji-before"], "   ",
        n["kishida"], n["cop28"], text_120, UNICODE["cjk"], n["activision"], "X",
    ]
    return [
        case("card-news-sspe", [CARD_NEWS_SSPE], CARD_NEWS_LABELS),
        case("card-news-sspe-nested", [CARD_NEWS_SSPE], CARD_NEWS_LABELS, flat_ner=False),
        case("card-news-sspe-multi-label", [CARD_NEWS_SSPE], CARD_NEWS_LABELS, multi_label=True),
        case("card-news-sspe-nested-multi-label-t0.3", [CARD_NEWS_SSPE], CARD_NEWS_LABELS, threshold=0.3,
             flat_ner=False, multi_label=True),
        case("card-microsoft", [CARD_MICROSOFT], ["person", "organization", "date", "position", "product"]),
        case("card-ronaldo-title-case-labels", [CARD_RONALDO], CARD_RONALDO_LABELS),
        case("news-threshold-0.1", [n["headline"], n["recall"], n["fed"], n["football"], n["kishida"]], LABELS_3,
             threshold=0.1),
        case("news-threshold-0.9", [n["novo"], n["webb"], n["brazil"], n["pakistan"], n["activision"]], LABELS_NEWS,
             threshold=0.9),
        case("news-one-label", [n["ftx"], n["mpox"], n["swift"], n["opec"]], LABELS_1),
        case("news-three-labels-nested", [n["lyon"], n["kenya"], n["samsung"]], LABELS_3, flat_ner=False),
        case("news-30-labels", [n["cop28"], n["chandrayaan"], n["airbus"], n["brazil"]], LABELS_30),
        case("news-30-labels-nested-multi-label", [n["pakistan"], n["activision"]], LABELS_30, threshold=0.3,
             flat_ner=False, multi_label=True),
        case("duplicate-labels", [n["recall"], n["fed"]], LABELS_DUPLICATES),
        case("unicode-accents-scripts", [UNICODE["accents"], UNICODE["accents-2"], UNICODE["scripts"]], LABELS_NEWS),
        case("unicode-cjk", [UNICODE["cjk"], UNICODE["cjk-mixed"]], LABELS_NEWS, threshold=0.3),
        case("unicode-emoji", [UNICODE["emoji-before"], UNICODE["emoji-inside"]], LABELS_NEWS),
        case("unicode-invisible", [UNICODE["zero-width"], UNICODE["bom"], UNICODE["soft-hyphen"],
                                   DEGENERATE["zwsp-only"], DEGENERATE["bom-only"]], LABELS_NEWS, threshold=0.3),
        case("unicode-compatibility", [UNICODE["full-width"], UNICODE["compat"], UNICODE["numbers"]], LABELS_NEWS),
        case("unicode-controls-compounds-quotes", [UNICODE["controls"], UNICODE["compounds"], UNICODE["quotes"]],
             LABELS_NEWS, flat_ner=False),
        case("degenerate-texts", [DEGENERATE["empty"], DEGENERATE["whitespace"], DEGENERATE["one-word"],
                                  DEGENERATE["one-char"], DEGENERATE["emoji-only"], n["headline"]], LABELS_3,
             threshold=0.3),
        case("all-empty", [DEGENERATE["empty"], DEGENERATE["whitespace"]], LABELS_3),
        case("max-len-384-words", [text_384], CARD_NEWS_LABELS),
        case("max-len-256-words", [text_256], CARD_NEWS_LABELS, flat_ner=False),
        case("long-prompt-384-words-30-labels", [text_384_dense], LABELS_30, long_prompt=True),
        case("mixed-batch-bs8", mixed, LABELS_NEWS, batch_size=8),
        case("mixed-batch-bs1", mixed, LABELS_NEWS, batch_size=1),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    cases = build_cases()
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="ascii", newline="\n") as handle:
        for item in cases:
            handle.write(json.dumps(item, ensure_ascii=True) + "\n")
    texts = {t for c in cases for t in c["texts"]}
    print(f"[cases] {len(cases)} cases, {len(texts)} distinct texts -> {args.out}")
    for item in cases:
        longest = max(item["texts"], key=word_count)
        print(f"[cases] {item['id']}: words {[word_count(t) for t in item['texts']]}, "
              f"sub-tokens of the longest with its labels {subtoken_count(longest, item['labels'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
