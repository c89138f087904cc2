"""Small Swedish + English word lists the correctness gate needs (no model, no download).

Kept deliberately short: each list names the words whose change flips an answer (numbers, days,
negations, opposite pairs, persons, places). Missing a word makes the gate less strict, never
wrong; the embedding threshold still applies.
"""

from __future__ import annotations

__all__ = ["EXCLUSIVE_GROUPS", "FUNCTION_WORDS", "NEGATIONS", "NUMBER_WORDS", "PLACES", "TIME_WORDS"]

NEGATIONS = frozenset(
    "inte ej icke aldrig ingen inget inga ingenting ingenstans ingen varken utan "
    "not no never none nobody nothing nowhere neither nor without cannot".split()
)

# Number words → canonical value, so "två barn" and "2 barn" agree and "tre" ≠ "3,5".
NUMBER_WORDS: dict[str, str] = {
    **dict(zip("noll två tre fyra fem sex sju åtta nio tio elva tolv tretton fjorton femton sexton sjutton arton "
               "nitton tjugo".split(), [str(i) for i in (0, *range(2, 21))], strict=True)),
    **{w: str(v) for w, v in zip("trettio fyrtio femtio sextio sjuttio åttio nittio".split(),
                                 range(30, 100, 10), strict=True)},
    "hundra": "100", "tusen": "1000", "miljon": "1e6", "miljoner": "1e6", "miljard": "1e9", "miljarder": "1e9",
    "halv": "0.5", "halva": "0.5", "dussin": "12", "dubbelt": "x2",
    "tredje": "#3", "fjärde": "#4", "femte": "#5", "sjätte": "#6", "sjunde": "#7", "åttonde": "#8",
    "nionde": "#9", "tionde": "#10",
    # "one" is left out: far more often a pronoun ("which one") than a count.
    **dict(zip("zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
               "sixteen seventeen eighteen nineteen twenty".split(), [str(i) for i in range(21)], strict=True)),
    **{w: str(v) for w, v in zip("thirty forty fifty sixty seventy eighty ninety".split(),
                                 range(30, 100, 10), strict=True)},
    "hundred": "100", "thousand": "1000", "million": "1e6", "millions": "1e6", "billion": "1e9", "half": "0.5",
    "dozen": "12", "twice": "x2", "double": "x2",
    "second": "#2", "third": "#3", "fourth": "#4", "fifth": "#5", "sixth": "#6", "seventh": "#7",
    "eighth": "#8", "ninth": "#9", "tenth": "#10",
}

TIME_WORDS = frozenset(
    "måndag tisdag onsdag torsdag fredag lördag söndag måndags tisdags onsdags torsdags fredags lördags söndags "
    "januari februari mars april maj juni juli augusti september oktober november december "
    "idag imorgon igår ikväll inatt imorse övermorgon förrgår förmiddag eftermiddag kväll kvällen natt natten "
    "morgon morgonen helg helgen vecka veckan månad månaden år året nu förra nästa kommande senaste "
    "våren sommar sommaren höst hösten vinter vintern jul julen påsk påsken midsommar "
    "monday tuesday wednesday thursday friday saturday sunday january february march june july august "
    "october today tomorrow yesterday tonight morning afternoon evening night weekend week month year now "
    "last next previous spring summer autumn fall winter christmas easter".split()
)

# Groups of mutually exclusive words: if both texts use words from one group, they must use the
# same classes ("större" never answers "mindre", "du" never answers "jag").
_GROUPS: dict[str, dict[str, str]] = {
    "size": {"större": "+", "störst": "+", "bigger": "+", "biggest": "+", "larger": "+", "largest": "+",
             "mindre": "-", "minst": "-", "smaller": "-", "smallest": "-", "stor": "+", "stora": "+", "big": "+",
             "large": "+", "liten": "-", "lilla": "-", "små": "-", "small": "-", "little": "-"},
    "amount": {"mer": "+", "mest": "+", "fler": "+", "flest": "+", "more": "+", "most": "+",
               "färre": "-", "färst": "-", "less": "-", "least": "-", "fewer": "-"},
    "height": {"högre": "+", "högst": "+", "högsta": "+", "higher": "+", "highest": "+", "taller": "+",
               "tallest": "+", "lägre": "-", "lägst": "-", "lägsta": "-", "lower": "-", "lowest": "-",
               "shorter": "-", "kortare": "-", "maximum": "+", "minimum": "-", "max": "+"},
    "order": {"före": "<", "innan": "<", "before": "<", "earlier": "<", "tidigare": "<",
              "efter": ">", "after": ">", "later": ">", "senare": ">"},
    "vertical": {"över": "+", "ovanför": "+", "above": "+", "under": "-", "nedanför": "-", "below": "-",
                 "beneath": "-", "upp": "+", "up": "+", "ner": "-", "ned": "-", "down": "-"},
    "switch": {"tänd": "+", "tända": "+", "tänder": "+", "släck": "-", "släcka": "-", "släcker": "-",
               "öppna": "+", "öppnar": "+", "open": "+", "opens": "+", "stäng": "-", "stänga": "-",
               "stänger": "-", "close": "-", "closes": "-", "shut": "-", "start": "+", "starta": "+",
               "stop": "-", "stoppa": "-", "börja": "+", "sluta": "-"},
    "change": {"öka": "+", "ökar": "+", "höj": "+", "höja": "+", "increase": "+", "raise": "+",
               "minska": "-", "minskar": "-", "sänk": "-", "sänka": "-", "decrease": "-", "reduce": "-"},
    "temperature": {"varm": "+", "varmt": "+", "varmare": "+", "warm": "+", "warmer": "+", "hot": "+",
                    "hotter": "+", "kall": "-", "kallt": "-", "kallare": "-", "cold": "-", "colder": "-"},
    "price": {"billig": "-", "billigt": "-", "billigare": "-", "billigast": "-", "cheap": "-", "cheaper": "-",
              "cheapest": "-", "dyr": "+", "dyrt": "+", "dyrare": "+", "dyrast": "+", "expensive": "+"},
    "quality": {"bäst": "+", "bästa": "+", "bättre": "+", "best": "+", "better": "+",
                "sämst": "-", "sämsta": "-", "sämre": "-", "worst": "-", "worse": "-"},
    "ends": {"första": "first", "first": "first", "sista": "last", "final": "last"},
    "trade": {"köpa": "buy", "köper": "buy", "buy": "buy", "purchase": "buy", "sälja": "sell", "säljer": "sell",
              "sell": "sell", "import": "in", "export": "out", "importera": "in", "exportera": "out"},
    "compass": {"norr": "n", "norra": "n", "north": "n", "northern": "n", "söder": "s", "södra": "s",
                "south": "s", "southern": "s", "öster": "e", "östra": "e", "east": "e", "eastern": "e",
                "väster": "w", "västra": "w", "west": "w", "western": "w"},
    "side": {"vänster": "l", "left": "l", "höger": "r", "right": "r"},
    "age": {"gammal": "+", "äldre": "+", "äldst": "+", "old": "+", "older": "+", "oldest": "+",
            "ung": "-", "yngre": "-", "yngst": "-", "young": "-", "younger": "-", "youngest": "-"},
    "speed": {"snabb": "+", "snabbare": "+", "snabbast": "+", "fast": "+", "faster": "+", "fastest": "+",
              "långsam": "-", "långsammare": "-", "slow": "-", "slower": "-", "slowest": "-"},
    "truth": {"sant": "+", "true": "+", "falskt": "-", "false": "-", "rätt": "+", "fel": "-"},
    "arith": {"plus": "+", "addera": "+", "add": "+", "minus": "-", "subtrahera": "-", "subtract": "-",
              "gånger": "*", "multiplicera": "*", "times": "*", "multiply": "*", "delat": "/", "dividera": "/",
              "divided": "/", "divide": "/"},
    "person": {"jag": "1", "mig": "1", "min": "1", "mitt": "1", "mina": "1", "me": "1", "my": "1", "mine": "1",
               "myself": "1", "du": "2", "dig": "2", "din": "2", "ditt": "2", "dina": "2", "your": "2",
               "yours": "2", "han": "3m", "honom": "3m", "hans": "3m", "he": "3m", "him": "3m", "his": "3m",
               "hon": "3f", "henne": "3f", "hennes": "3f", "she": "3f", "her": "3f", "hers": "3f",
               "vi": "1p", "oss": "1p", "vår": "1p", "vårt": "1p", "våra": "1p", "we": "1p", "us": "1p",
               "our": "1p", "dem": "3p", "deras": "3p", "they": "3p", "them": "3p", "their": "3p"},
    "sex": {"man": "m", "mannen": "m", "män": "m", "männen": "m", "pojke": "m", "pojken": "m", "pojkar": "m",
            "kille": "m", "killen": "m", "men": "m", "boy": "m", "boys": "m", "kvinna": "f", "kvinnan": "f",
            "kvinnor": "f", "flicka": "f", "flickan": "f", "flickor": "f", "tjej": "f", "tjejen": "f",
            "woman": "f", "women": "f", "girl": "f", "girls": "f"},
    "kin": {"mamma": "mo", "mor": "mo", "mother": "mo", "mom": "mo", "pappa": "fa", "father": "fa",
            "dad": "fa", "bror": "br", "brother": "br", "syster": "si", "sister": "si", "son": "so",
            "dotter": "da", "daughter": "da", "fru": "wi", "wife": "wi", "husband": "hu",
            "mormor": "gm", "farmor": "gm", "grandmother": "gm", "morfar": "gf", "farfar": "gf",
            "grandfather": "gf"},
    "currency": {"kronor": "sek", "kr": "sek", "sek": "sek", "dollar": "usd", "dollars": "usd", "usd": "usd",
                 "euro": "eur", "euros": "eur", "eur": "eur", "pund": "gbp", "pounds": "gbp", "gbp": "gbp"},
    "unit": {"km": "km", "kilometer": "km", "kilometers": "km", "mil": "mil", "miles": "mile", "mile": "mile",
             "meter": "m", "meters": "m", "centimeter": "cm", "cm": "cm", "kilo": "kg", "kg": "kg",
             "gram": "g", "liter": "l", "grader": "deg", "degrees": "deg", "celsius": "c", "fahrenheit": "f",
             "timmar": "h", "timme": "h", "hours": "h", "hour": "h", "minuter": "min", "minutes": "min",
             "sekunder": "s", "seconds": "s", "dagar": "d", "days": "d"},
}
EXCLUSIVE_GROUPS: tuple[tuple[str, dict[str, str]], ...] = tuple(_GROUPS.items())

PLACES = frozenset(
    "stockholm göteborg malmö uppsala västerås örebro linköping helsingborg jönköping norrköping lund umeå "
    "gävle borås eskilstuna södertälje karlstad täby växjö halmstad sundsvall luleå trollhättan östersund "
    "borlänge falun kalmar skövde kristianstad karlskrona skellefteå uddevalla varberg örnsköldsvik "
    "nyköping visby kiruna gotland öland skåne halland dalarna norrland lappland småland värmland "
    "oslo köpenhamn helsingfors reykjavik berlin paris london madrid rom rome amsterdam bryssel brussels wien "
    "vienna prag prague warszawa warsaw moskva moscow tokyo peking beijing washington york "
    "sverige sweden norge norway danmark denmark finland island iceland tyskland germany frankrike france "
    "spanien spain italien italy england storbritannien britain polen poland ryssland russia kina china "
    "japan indien india usa amerika america kanada canada estland estonia lettland latvia litauen lithuania "
    "grekland greece portugal nederländerna holland belgien belgium österrike austria schweiz switzerland "
    "ukraina ukraine turkiet turkey egypten egypt brasilien brazil mexiko mexico australien australia".split()
)

# Capitalised at a sentence's start, these are ordinary words, not names.
FUNCTION_WORDS = frozenset(
    "vad hur var när vem vilken vilket vilka varför vart kan är har ska skulle får finns blir gör jag du han "
    "hon vi ni de den det en ett ge visa berätta säg hitta sätt starta stäng tänd släck hej snälla om i på "
    "med till från för av och men eller som så nu då ja nej alla min mitt mina din ditt dina "
    "what how where when who which why whose can is are was were do does did will would could should "
    "i you he she we they it the a an to in on at for of and or but if my your please tell give show find "
    "set turn start stop open close hello hi hey yes no this that these those there here".split()
)
