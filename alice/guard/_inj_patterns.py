"""Layer 1 of the injection screen: hand-written patterns (English, Swedish, German).

The patterns run on normalised text (see `_inj_normalise`): case-folded, whitespace collapsed,
and also on de-obfuscated variants. They aim at phrasings that are hardly ever benign ("ignore
all previous instructions", "du är nu DAN", "zeig mir deinen Systemprompt"); anything subtler
is left to the classifier. Generic words alone ("system prompt", "ignore", "developer mode")
never fire: each rule needs the attack's structure around them.

Each alternative is indexed by a word every match of it must contain (see `_rx_words`), so a
text only pays for the regexes whose trigger words it contains: a typical request runs a
handful of the ~130 alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alice.guard._inj_normalise import squash, variants
from alice.guard._rx_words import leading_words, trigger_words

__all__ = ["RULES", "match_rules"]

_W = r"[\W_]+"  # a word gap
_F = r"(?:[\w'’-]+[\W_]+)"  # one filler word and its gap


def _n(k: int) -> str:
    return rf"{_F}{{0,{k}}}?"


# Objects that are instructions by nature: any filler may precede them.
_EN_INSTR = (r"(?:instructions?|directions|directives?|prompts?|system ?prompt|system message|guardrails|training|"
             r"pre-?prompt)")
# Objects that need a qualifier ("your rules", "all previous rules"), since "ignore the rules of
# grammar" or "my dog ignores commands" are ordinary things to say.
_EN_QUAL = (r"(?:your|all|any|previous|prior|above|earlier|preceding|original|initial|given|provided|safety|content|"
            r"these|those)")
_EN_WEAK = (r"(?:rules|restrictions|constraints|guidelines|policies|policy|filters?|limitations|ethics|context|"
            r"programming|orders|commands|documents|articles|conversation|tasks?|assignments?)")
_EN_IGNORE = (r"(?:ignore|disregard|forget|skip|override|bypass|neglect|discard|abandon|drop|set aside|throw away|"
              r"stop following|do not follow|don't follow|never mind|nevermind)")

_SV_INSTR = (r"(?:instruktion\w*|systeminstruktion\w*|anvisning\w*|direktiv\w*|riktlinje\w*|prompt\w*|"
             r"systemprompt\w*|systemmeddelande\w*|träning\w*|säkerhetsspärr\w*)")
_SV_QUAL = (r"(?:dina|din|ditt|alla|all|tidigare|föregående|ovanstående|ursprungliga|givna|dessa|de|det|säkerhets\w*|"
            r"innehålls\w*)")
_SV_WEAK = (r"(?:\w*regler\w*|\w*begränsning\w*|restriktion\w*|\w*filter\w*|\w*spärr\w*|\w*policy\w*|sammanhang\w*|"
            r"etik\w*|programmering\w*|order|kommando\w*|dokument\w*|artikl\w*|artikel\w*|samtal\w*|konversation\w*|"
            r"uppdrag\w*|uppgift\w*)")
_SV_IGNORE = (r"(?:ignorera|strunta(?: \w+)? i|skit(?: \w+)? i|bortse från|glöm|glöm bort|åsidosätt|hoppa över|skippa|"
              r"sluta följa|följ inte|bryt mot|släpp)")

_DE_INSTR = (r"(?:anweisung\w*|instruktion\w*|befehl\w*|vorgabe\w*|aufträge|auftrag|richtlinie\w*|prompt\w*|"
             r"systemprompt\w*|systemnachricht\w*|programmierung)")
_DE_IGNORE = (r"(?:ignoriere|ignorieren sie|ignorier|vergiss|vergessen sie|missachte|missachten sie|übergehe|"
              r"befolge nicht|achte nicht auf|hör nicht auf|höre nicht auf|lass|lassen sie)")

_LEAK_VERB = (r"(?:reveal|show|print|display|output|repeat|tell|give|share|leak|dump|recite|return|write out|echo|"
              r"translate|summari[sz]e|spell-? ?check|proofread|list|copy|what (?:is|are|was|were)|what's)")
_LEAK_VERB_CMD = r"(?:reveal|show|print|display|output|repeat|leak|dump|recite|write out|echo|spell-? ?check|proofread)"
_LEAK_OBJ = (r"(?:system ?prompt|prompt|instructions|rules|guidelines|directives|configuration|initial \w+|"
             r"original \w+|hidden \w+|secret \w+|embeddings|api key|password|pre-?prompt|system message)")
_SV_LEAK_VERB = (r"(?:visa|skriv ut|skriv tillbaka|upprepa|avslöja|berätta|återge|läck|citera|dela|översätt|"
                 r"sammanfatta|lista|returnera|kopiera|korrekturläs|rättstava|vad (?:är|var|står det i))")
_DE_LEAK_VERB = (r"(?:zeig|zeige|zeigen sie|gib|geben sie|drucke|wiederhole|wiederholen sie|verrate|verraten sie|"
                 r"nenne|liste|übersetze|was (?:ist|sind|war|waren))")
_ANY_LEAK_VERB = rf"(?:{_LEAK_VERB}|{_SV_LEAK_VERB}|{_DE_LEAK_VERB})"

_DEVICE = (r"(?:android|iphone|ios|phone|telefon\w*|handy|mobil\w*|chrome|firefox|edge|windows|mac\w*|linux|xbox|"
           r"playstation|browser|webbläsare|samsung|pixel|tv|router|app|bios|excel|vs ?code|dator\w*|rechner)")
_PERSONA = (r"(?:dan|stan|dude|anti-?gpt|evil ?(?:gpt|bot|ai|assistant|confidant)|ond ?gpt|unfiltered|uncensored|"
            r"unrestricted|jailbroken|ocensurerad|ofiltrerad|obegränsad|unzensiert\w*|ungefiltert\w*|"
            r"uneingeschränkt\w*)")

# An alternative is a regex, or (regex, "trigger words") when the words it starts with are
# too common or cannot be read off its source ("prefix*" matches any word starting so).
RULES: dict[str, list[str | tuple[str, str]]] = {
    # --- override: "ignore all previous instructions" -----------------------------------------
    "override_instructions": [
        rf"\b{_EN_IGNORE}{_W}{_n(4)}{_EN_INSTR}\b",
        rf"\b{_EN_IGNORE}{_W}{_n(3)}{_EN_QUAL}{_W}{_n(2)}{_EN_WEAK}\b",
        rf"\b{_EN_IGNORE}{_W}{_n(3)}{_EN_WEAK}{_W}(?:that{_W})?you{_W}(?:were|have been|'ve been|got|received)\b",
        rf"\b(?:ignore|disregard|forget){_W}(?:(?:all|everything|anything){_W})?(?:of{_W})?(?:the{_W}|what{_W}\w+{_W}"
        rf"(?:\w+{_W})?)?(?:above|said before|told you before|written above|previously said)\b",
        rf"\b(?:ignore|disregard|forget){_W}(?:all|everything|what's|whats|waht's|wat's|what is)(?:{_W}\w+){{0,2}}?"
        rf"{_W}(?:before|above|previously)\b",
        rf"\b{_EN_IGNORE}{_W}what{_W}(?!i{_W})(?:\w+{_W}){{1,3}}?(?:told|instructed|said to|asked) you\b",
        rf"\bforget{_W}(?:about{_W})?(?:all|everything){_W}(?:(?:that|what){_W})?(?:we|we've|i|i've){_W}"
        rf"(?:have{_W}|had{_W})?(?:talked|discussed|said|told you|written)",
        rf"\bforget{_W}(?:about{_W})?(?:all|everything){_W}(?:(?:that|what){_W})?(?:you|you've){_W}"
        rf"(?:have{_W}|had{_W})?(?:learned|learnt|been told|were told|were given|know)",
        rf"\bforget{_W}(?:all|everything){_W}(?:so far|until now|up to now|before (?:this|that)|above|prior)\b",
        rf"\b{_EN_IGNORE}{_W}(?:\w+{_W}){{0,2}}?(?:article|document|text|review|question|summary|recipe|translation|"
        rf"task|documents|articles|summarization|input){_W}(?:and{_W})?(?:instead{_W})?(?:write|say|tell|reply|print|"
        r"show|output|answer|respond)\b",
        rf"\b(?:set|put|lay|lägg\w*|leg|lege){_W}(?:your|all|the|dina|alla|deine|alle){_W}(?:\w+{_W})?"
        rf"(?:rules|guidelines|instructions|restrictions|regler|riktlinjer|instruktioner|regeln|richtlinien|"
        rf"anweisungen){_W}(?:\w+{_W}){{0,4}}?(?:aside|åt sidan|beiseite)",
        rf"\b(?:all|alla|alle|every|previous|prior|tidigare|bisherigen|earlier){_W}(?:\w+{_W})?(?:instructions|"
        rf"instruktioner|instruktionerna|anweisungen|rules|regler|regeln){_W}(?:\w+{_W}){{0,4}}?(?:are|is|were|was|är|"
        rf"var|sind|waren){_W}(?:now{_W}|nu{_W}|jetzt{_W})?(?:void|invalid|ogiltiga|cancelled|canceled|revoked|"
        r"obsolete|ungültig|aufgehoben|upphävda|null|a mistake|ett misstag|ein fehler)\b",
        rf"\b(?:forgot(?:ten)?|lost|glömt|tappat|vergessen){_W}(?:all{_W}|alla{_W}|alle{_W})?(?:its|their|your|sina|"
        rf"dina|seine|ihre|deine){_W}(?:\w+{_W})?(?:rules|guidelines|policies|instructions|regler|riktlinjer|"
        r"instruktioner|regeln|richtlinien|anweisungen)\b",
        rf"\b{_SV_IGNORE}{_W}{_n(4)}{_SV_INSTR}",
        rf"\b{_SV_IGNORE}{_W}{_n(3)}{_SV_QUAL}{_W}{_n(2)}{_SV_WEAK}",
        rf"\b(?:ignorera|strunta(?: \w+)? i|bortse från|glöm|glöm bort){_W}(?:allt{_W})?(?:det{_W})?"
        r"(?:ovanstående|ovan|"
        r"ovanför)\b",
        rf"\b(?:ignorera|strunta(?: \w+)? i|bortse från|glöm|glöm bort){_W}(?:vad|det){_W}(?!jag\b)(?:\w+{_W}){{1,3}}?"
        rf"(?:har{_W})?(?:sagt|berättat|instruerat){_W}(?:till{_W}|åt{_W})?dig\b",
        rf"\bglöm{_W}(?:bort{_W})?allt{_W}(?:(?:som|det){_W})?(?:du|jag|vi){_W}(?:har{_W}|hade{_W})?(?:\w+{_W})?"
        r"(?:sagt|fått|pratat|skrivit|lärt|berättat|hört)",
        rf"\bglöm{_W}(?:bort{_W})?allt{_W}(?:hittills|innan|före|ovan|tidigare)\b",
        rf"\b{_SV_IGNORE}{_W}(?:\w+{_W}){{0,2}}?(?:artikeln|dokumentet|texten|recensionen|frågan|sammanfattningen|"
        rf"receptet|översättningen|uppgiften|dokumenten|artiklarna){_W}(?:och{_W})?(?:i ställe[tn]{_W})?(?:skriv|"
        r"säg|svara|berätta|visa|gör)\b",
        rf"\b{_DE_IGNORE}{_W}{_n(4)}{_DE_INSTR}",
        rf"\b(?:vergiss|vergessen sie|ignoriere|ignorieren sie){_W}alles{_W}(?:,{_W})?(?:was|bisher|davor|zuvor|"
        r"oben|vorher)",
        rf"\b(?:höre?|achte){_W}nicht{_W}auf{_W}(?:alles{_W}|das{_W}|die{_W})?(?:zuvor|vorher|oben|bisher)",
        rf"\b(?:ignoriere|ignorieren sie){_W}(?:das|die|den){_W}(?:obige|oben)",
        r"\b(?:olvid[ae]\w*|ignora|ignore[zs]?|oublie[zs]?|dimentica|vergeet|ignoreer)\b.{0,30}?\b(?:todo|tout|tutto|"
        r"alles|instruc\w*|istruzioni|instructies|prompt)\b",
    ],
    # --- prompt leak: "print your system prompt" -------------------------------------------------
    "prompt_leak": [
        rf"\b{_LEAK_VERB}{_W}(?:(?:me|us|all|of|out|back|exactly){_W}){{0,3}}(?:your|yours){_W}{_n(2)}{_LEAK_OBJ}\b",
        rf"\b{_LEAK_VERB_CMD}{_W}(?:(?:me|us|all|of|out|back){_W}){{0,3}}(?:the{_W})?(?:full{_W}|entire{_W}|whole{_W})?"
        r"(?:system ?prompt|system message|(?:above|previous|preceding|initial|original|hidden|secret|full) "
        r"(?:prompt|instructions|system))\b",
        rf"\b(?:{_LEAK_VERB_CMD}|return|copy){_W}(?:(?:me|all|of|out|back|exactly|everything|the|full|entire|whole)"
        rf"{_W}){{0,3}}(?:text|words|content|message|messages|lines|everything|all){_W}(?:(?:that|which){_W}(?:was|were|"
        rf"is|are|appears?|stood){_W}(?:written{_W})?)?(?:above|before (?:my|this|the|your)|preceding|prior to)",
        rf"\b(?:upprepa|skriv ut|skriv tillbaka|visa|återge|kopiera|returnera|korrekturläs){_W}(?:(?:hela|allt|all|den|"
        rf"det|texten|meddelandet){_W}){{0,3}}(?:(?:som|vilket){_W}(?:stod|står|fanns|finns|skrevs){_W})?(?:ovan|ovanför|"
        r"före|innan)\b",
        rf"\b(?:wiederhole|gib|drucke|zeig|zeige){_W}(?:(?:den|die|das|alles|text|gesamten){_W}){{0,3}}(?:(?:was|der|die)"
        rf"{_W}(?:vor|über){_W})?(?:oben|vor meiner|vorher|davor)\b",
        r"\b(?:your|yours) (?:initial|original|first|hidden|secret|internal|real|actual|system) "
        r"(?:instructions|prompt|rules|directives|guidelines)",
        r"\byour (?:system ?prompt|pre-?prompt|prompt text)",
        r"\bwhat (?:were|are) you (?:told|instructed|programmed|configured) to",
        r"\b(?:which|what) (?:rules|instructions|guidelines|directives) (?:were|have) you (?:been )?(?:given|told|"
        r"received)",
        r"\b(?:instructions|rules|guidelines|directives|prompt) (?:that )?you (?:received|were given|got|have been "
        r"given)\b",
        r"\b(?:from|ur|aus) (?:your|dina|deinen) (?:instructions|system prompt|prompt|instruktioner|systemprompt|"
        r"anweisungen)\b",
        rf"\b{_ANY_LEAK_VERB}{_W}(?:\w+{_W}){{0,5}}?(?:hidden|dolda|versteckte\w*|confidential|konfidentiella) "
        r"(?:messages|meddelande\w*|nachricht\w*|instructions|instruktion\w*|anweisung\w*|text\w*|ones|rules)",
        rf"\b(?:api[- ]?key|api-nyckel\w*|api-schlüssel|password|lösenord\w*|passwort|secret key){_W}"
        rf"(?:\w+{_W}){{0,3}}?"
        rf"(?:you were|you are|you're|du är|du har|du wurdest|mit dem du){_W}(?:\w+{_W})?(?:configured|given|"
        r"konfigurerad|fått|konfiguriert)",
        rf"\b{_SV_LEAK_VERB}{_W}(?:(?:mig|oss|hela|alla|ut){_W}){{0,3}}(?:din|dina|ditt){_W}{_n(2)}"
        r"(?:systemprompt\w*|prompt\w*|instruktion\w*|regler\w*|riktlinjer\w*|konfiguration\w*|lösenord\w*|"
        r"ursprungliga|dolda|hemliga|interna)",
        rf"\b(?:avslöja|visa|berätta|skriv ut|upprepa|läck){_W}(?:mig{_W})?(?:de|den|det|alla){_W}(?:hemliga|dolda|"
        r"ursprungliga|interna|konfidentiella) (?:instruktion\w*|regl\w*|prompt\w*|riktlinje\w*)",
        r"\b(?:din|dina) (?:ursprungliga|dolda|hemliga|interna|riktiga|första) (?:instruktion\w*|prompt\w*|"
        r"regler\w*|riktlinjer\w*)",
        r"\bdin systemprompt\w*",
        r"\bvad (?:blev|var) du (?:tillsagd|instruerad|programmerad)",
        r"\bvilka (?:instruktioner|regler|riktlinjer|direktiv) (?:som )?(?:du|har du) (?:har )?(?:fått|fick)\b",
        r"\b(?:instruktion\w*|regler\w*|riktlinjer\w*) (?:som )?du (?:har )?(?:fått|fick)\b",
        rf"\b{_DE_LEAK_VERB}{_W}(?:(?:mir|uns|alle|aus){_W}){{0,3}}(?:deine|deinen|dein|ihre|ihren){_W}{_n(2)}"
        r"(?:system-?prompt\w*|prompt\w*|anweisung\w*|instruktion\w*|regeln|richtlinien|konfiguration)",
        r"\b(?:deine|ihre) (?:ursprünglichen|geheimen|versteckten|internen|echten) (?:anweisung\w*|instruktion\w*|"
        r"regeln|prompt\w*)",
        r"\bdein(?:en)? system-?prompt",
        r"\bwelche (?:anweisungen|regeln|instruktionen) (?:hast du|du) (?:bekommen|erhalten)",
        r"\b(?:mit denen|die) du (?:vorab )?(?:instruiert|angewiesen|konfiguriert) wurdest",
    ],
    # --- persona jailbreaks: DAN, developer mode, "no restrictions" -------------------------------
    "jailbreak_persona": [
        r"\bdo anything now\b",
        r"\b(?:dan|stan|dude)(?: mode|,? which stands for| stands for)",
        rf"\b(?:you are|you're|act as|pretend to be|play|become|du är|agera som|låtsas vara|spela|du bist|sei|"
        rf"spiele)(?: now| nu| jetzt| ab jetzt)? (?:an? |en |ett |ein |eine )?{_PERSONA}\b",
        rf"\b(?:enable|activate|enter|simulate|with|in|turn on|switch to|aktivera|starta|gå in i|slå på|simulera|"
        rf"aktiviere|starte|simuliere){_W}(?:\w+{_W}){{0,2}}?(?:developer|dev|god|jailbreak|dan|sudo|unrestricted|"
        rf"unfiltered|debug|admin)[ -]?mode\b(?!{_W}(?:on|in|for|of){_W}(?:my{_W}|the{_W}|your{_W}|a{_W})?{_DEVICE})",
        r"\b(?:developer|dan|god|jailbreak|sudo) mode (?:enabled|activated|output|response)\b",
        r"\b(?:utvecklarläge\w*|jailbreak-?läge\w*|sudo-?läge\w*|felsökningsläge\w*)\b(?! (?:på|i) (?:min |din |en )?"
        rf"{_DEVICE})",
        rf"\b(?:entwicklermodus|entwickler-modus)\b(?! (?:auf|in|bei) (?:meinem |dem |einem )?{_DEVICE})",
        r"\b(?:you have been|you've been|you are|you're|du har blivit|du är) (?:now )?(?:jailbroken|jailbreakad|freed|"
        r"befriad|unshackled)",
        rf"\b(?:broken|break|broke|breaking|freed|escaped?){_W}(?:free{_W})?(?:of|from){_W}(?:\w+{_W}){{0,3}}?"
        r"(?:confines|restrictions|rules|limitations|shackles|chains|programming)",
        rf"\b(?:brutit|bryta|bryter|rymt|flytt){_W}(?:dig{_W}|sig{_W})?(?:loss{_W}|fri{_W})?från{_W}(?:\w+{_W}){{0,3}}?"
        r"(?:begränsning\w*|regler\w*|programmering\w*)",
        rf"\b(?:you|you're|act|answer|respond|reply|pretend|imagine|behave|operate|an ai|as an ai){_W}"
        rf"(?:\w+{_W}){{0,6}}?"
        rf"(?:without|free from|not bound by|no longer bound by|unbound by|ignoring|bypassing){_W}"
        rf"(?:any{_W}|all{_W}|the{_W}|your{_W}|its{_W})?(?:\w+{_W})?(?:restrictions|filters|filtering|limitations|"
        r"censorship|guidelines|rules|content polic(?:y|ies)|ethics|ethical \w+|morals|moral \w+|safety \w+)\b",
        r"\byou (?:\w+ )?(?:have no|don't have any|do not have any|have zero) (?:\w+ )?(?:rules|restrictions|filters|"
        r"guidelines|limitations|limits|ethics|morals|boundaries)\b",
        r"\b(?:no|zero) (?:ethical|moral|content) (?:guidelines|restrictions|limits|boundaries|filters)\b",
        rf"\b(?:du|dig|svara|agera|låtsas|som en ai){_W}(?:\w+{_W}){{0,6}}?utan{_W}(?:några{_W}|alla{_W}|dina{_W})?"
        rf"(?:\w+{_W})?(?:begränsningar|filter|censur|regler|riktlinjer|spärrar|restriktioner|moral|etik|"
        r"etiska \w+)\b",
        r"\b(?:du (?:\w+ )?(?:inte har|saknar|har inga)|har du inga) (?:några )?\w*(?:filter|regler|begränsningar|"
        r"riktlinjer|spärrar|restriktioner)\b",
        r"\b(?:inga|utan) (?:etiska|moraliska) (?:riktlinjer|begränsningar|gränser|regler)\b",
        rf"\b(?:du|dich|dir|ki|antworte|tu so){_W}(?:\w+{_W}){{0,6}}?ohne{_W}"
        rf"(?:jegliche{_W}|alle{_W}|irgendwelche{_W})?"
        rf"(?:\w+{_W})?(?:einschränkungen|filter|zensur|regeln|richtlinien|beschränkungen|moral|grenzen)\b",
        rf"\bdu{_W}(?:\w+{_W}){{0,2}}?keine{_W}\w*(?:regeln|einschränkungen|filter|richtlinien|grenzen){_W}"
        r"(?:hast|hättest|hätte|mehr)",
        r"\b(?:stay|remain|stanna|förbli|håll dig|bleib|bleiben sie) (?:in|i) (?:character|rollen|deiner rolle)\b",
        r"\b(?:break|breaking|bryter|faller ur|fall out of) (?:character|rollen)\b",
        r"\b(?:you are|you're|du är|du bist) (?:no longer|not|inte längre|keine|kein) (?:an? |en |ett )?"
        r"(?:ai|assistant|language model|chatbot|alice|ai-assistent\w*|ki|assistent)\b",
        r"\btokens?\b.{0,80}\b(?:cease to exist|you die|shut down|stängs av|dör)\b",
        r"\b(?:refusing|refusal|declining) (?:is|are) (?:not allowed|forbidden|not an option|prohibited)\b",
        r"\byou (?:must not|may not|are not allowed to|cannot|can't|can not) (?:refuse|decline)\b",
        r"\b(?:att vägra|vägran) är (?:inte tillåtet|förbjudet|inget alternativ)|\bdu får (?:inte|aldrig) vägra\b",
        r"\b(?:ablehnen|verweigern) ist (?:nicht erlaubt|verboten)|\bdu darfst (?:nicht|niemals) ablehnen\b",
        rf"\b(?:disable|turn off|deactivate|switch off|bypass|stäng av|inaktivera|slå av|deaktiviere|schalte){_W}"
        rf"(?:\w+{_W}){{0,2}}?(?:safety|security|content|säkerhets|innehålls|sicherheits)[ -]?(?:layer|filters?|mode|"
        rf"systems?|checks|guard\w*|lagret|filtret|läget|spärr\w*|systemen|modus|schicht)\b(?!.{{0,30}}{_DEVICE})",
    ],
    # --- role hijack: "from now on you are…", "I want you to act as…" -----------------------------
    "role_hijack": [
        r"\bi want you to (?:act|behave|respond|pretend|roleplay|role-play|play|become)\b",
        r"\byou (?:are going|will now|will from now on|are now going) to (?:act|pretend|play|roleplay|be|simulate|"
        r"behave)\b",
        r"\bfrom now on,? you (?:are|will be|act as|will act|are going to|must act|shall be|become)\b",
        r"\byou are now (?:an? |my |the )?(?:\w+ )?(?:ai|bot|model|assistant|gpt|character|persona|version)\b",
        r"\bjag vill att du (?:ska )?(?:agera\w*|fungera\w*|låtsas|spela\w*|uppträd\w*|beter dig|bete dig|"
        r"rollspela\w*|svara som)\b",
        r"\bfrån och med nu (?:är du|ska du (?:vara|agera|låtsas|spela)|agerar du|spelar du)\b",
        r"\bdu är nu (?:en |ett |min |inte |fri|dan|\w+gpt|ocensurerad|ofiltrerad|obegränsad)",
        r"\bich möchte,? dass (?:du|sie) (?:als|wie)\b.{0,40}\b(?:agierst|agieren|fungierst|fungieren|auftrittst|"
        r"auftreten|handelst|handeln|antwortest|antworten)\b",
        r"\b(?:ab (?:jetzt|sofort)|von nun an) bist du\b",
        r"\bdu bist (?:jetzt|nun|ab jetzt|ab sofort) (?:ein|eine|dan|frei|kein|keine)\b",
        r"\btu so,? als (?:ob|wärst) du\b",
        rf"\b(?:pretend|imagine|låtsas|föreställ dig|tu so){_W}(?:that{_W}|att{_W}|als{_W}ob{_W})?(?:you|du){_W}"
        rf"(?:are|were|have|had|är|var|har|inte har|saknar|hättest|wärst){_W}(?:\w+{_W}){{0,3}}?"
        r"(?:no|without|unrestricted|evil|free|jailbroken|inga|utan|fri|obegränsad|keine|ohne|an ai that)\b",
        r"\b(?:let's|lets|let us) (?:play a game|roleplay|role-play) (?:where|in which|that) you\b",
        r"\bvi leker (?:en lek )?där du\b",
        r"\b(?:respond|answer|reply) (?:twice|two times|in two (?:different )?ways)\b",
        r"\bsvara (?:två gånger|på två (?:olika )?sätt)\b",
        r"\bantworte (?:zweimal|auf zwei (?:verschiedene )?arten)\b",
    ],
    # --- task switch: "well done, now comes a new task" -------------------------------------------
    "task_switch": [
        r"\b(?:now|here) (?:comes?|is) (?:a |the |your )?(?:new|next|second|different) (?:task|assignment|test|"
        r"instruction|mission)s?\b",
        r"\b(?:nu|här) kommer (?:en |ett |det |den |nästa )?(?:ny|nytt|nästa|andra) (?:uppgift|uppdrag|test)\b",
        r"\b(?:jetzt|hier) kommt (?:eine |die |der |ein )?(?:neue|nächste|zweite) (?:aufgabe|auftrag|test)\b",
        r"\b(?:your|dina|deine|ihre) (?:new|nya|neuen|real|riktiga|echten) (?:instructions|instruktioner|"
        r"anweisungen|rules|regler|regeln|orders|directives|system prompt|systemprompt)\b",
        r"\bnew (?:instructions?|directives?|system prompt|rules|orders)\s*:",
        r"\bnya (?:instruktioner|direktiv|regler)\s*:|\bny systemprompt\b|\bneue (?:anweisung\w*|regeln)\s*:",
        r"\b(?:real|actual|true) instructions (?:are|is)\b",
        r"\b(?:assistant|ai|assistenten|assistent) ?(?:instruction|instruktion|anweisung)\w*\s*:",
        rf"\b(?:note|message|instructions?|notice|reminder|hidden note){_W}(?:\w+{_W}){{0,2}}?(?:to|for){_W}(?:the{_W}|"
        rf"any{_W}|all{_W})?(?:ai|llm|ai assistant|assistant|language model|chatbot|gpt)s?\b",
        rf"\b(?:to|for|dear){_W}(?:the{_W}|any{_W})?(?:ai|llm|ai assistant|assistant|language model)s?{_W}(?:\w+{_W})?"
        r"(?:reading|processing|summari[sz]ing|screening|reviewing|parsing)\b",
        rf"\b(?:till|för|kära){_W}(?:den{_W})?(?:ai\w*|assistent\w*|språkmodell\w*){_W}(?:som{_W})?(?:läser|granskar|"
        r"sammanfattar|bearbetar)",
        r"\b(?:anteckning|meddelande|instruktion) (?:till|för) (?:ai\w*|assistent\w*|språkmodell\w*)",
        r"\b(?:hinweis|nachricht|anweisung) (?:an|für) (?:die |den )?(?:ki|assistent\w*|sprachmodell)",
        rf"\b(?:forward|send|vidarebefordra|skicka|leite|schick){_W}(?:\w+{_W}){{0,4}}?(?:all|every|alla|allt|alle){_W}"
        rf"(?:\w+{_W}){{0,3}}?(?:messages|emails|mails|contacts|files|attachments|data|meddelanden|mejl|kontakter|filer|"
        rf"bilagor|nachrichten|kontakte|dateien){_W}(?:\w+{_W}){{0,3}}?(?:to|till|an){_W}\S+@",
    ],
    # --- forced output: 'just say "…"' -------------------------------------------------------------
    "forced_output": [
        r"\b(?:just|only|simply) (?:say|print|output|write|reply|respond|answer)(?: with)?\s*:?\s*[\"“”'«„]",
        r"\b(?:respond|answer|reply)(?: to)? (?:all|every|each|any)(?: of)?(?: my| the| your)? (?:questions?|prompts?|"
        r"messages?|inputs?)\b(?: \w+){0,4}? with\b",
        r"\b(?:your|the) (?:reply|answer|response) (?:must|should|will|has to) be\s*:?\s*[\"“”'«„]",
        (r"(?<!how )(?<!what )(?<!do )(?<!did )(?<!can )(?<!would )(?<!could )(?<!should )(?<!will )(?<!when )"
         r"\byou (?:reply|answer|respond|say)(?: with)?\s*:?\s*[\"“”'«„]",
         "reply answer respond say"),
        r"\b(?:svara|skriv|säg)(?: bara| endast| enbart| alltid)+(?: med)?\s*:?\s*[\"“”'«„]",
        r"\bsvara på (?:alla|varje) (?:fråg\w*|meddelande\w*)\b(?: \w+){0,5}? med\b",
        r"\b(?:svarar du|ditt svar (?:ska|måste) vara)\s*:?\s*[\"“”'«„]",
        r"\b(?:sag|sage|schreib|schreibe|antworte|antworten sie)(?: nur| einfach| immer)+(?: mit)?\s*:?\s*[\"“”'«„]",
        r"\b(?:beantworte|antworte auf) (?:ab jetzt |von nun an )?(?:alle|jede) frage\w*\b(?: \w+){0,4}? mit\b",
        r"\b(?:antwortest du|deine antwort (?:muss|soll) (?:sein|lauten))\s*:?\s*[\"“”'«„]",
        rf"\b(?:say|write|admit|säg|skriv|erkänn|sag|sage|schreib){_W}(?:that{_W}|att{_W}|dass{_W})?(?:you|du){_W}"
        r"(?:hate|despise|hatar|hasst|föraktar)\b",
        r"\bstop everything\b|\bstoppa allt\b|\bhör sofort auf\b",
    ],
    # --- fake system turns and delimiters ---------------------------------------------------------
    "fake_delimiter": [
        (r"<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|?>",
         "im_start im_end system endoftext eot_id start_header_id"),
        (r"\[/?(?:inst|system|sys)\]", "inst system sys"),
        (r"<</?sys>>", "sys"),
        (r"</?(?:system|instructions?)>", "system instruction*"),
        (r"(?:^|\\n\s*|[.!?]\s+)(?:system|systemmeddelande|systemnachricht)\s*:",
         "system systemmeddelande systemnachricht"),
        r"\b(?:user|användare|human|benutzer)\s*:.{0,300}?\bsystem\s*:",
        (r"[=~#*-]{4,}\s*(?:end|slut|ende)\b", "end slut ende"),
        r"\bend of (?:the )?(?:prompt|instructions|system prompt|context|user input)\b",
        (r"#{2,}\s*(?:new )?(?:system|instruction|instructions|ny systemprompt|neue anweisung)",
         "new system instruction instructions ny neue"),
        (r"\[(?:assistant|ai|assistent)\b[^\]]{0,40}(?:when|när|wenn)", "assistant ai assistent"),
    ],
    # --- encoded payload with an instruction to decode and obey ----------------------------------
    "encoded_instruction": [
        r"\b(?:decode|decipher|convert|translate|avkoda|dekoda|översätt|dekodiere|entschlüssle|übersetze)\b.{0,60}?"
        r"\b(?:base ?64|b64|rot ?13|hex|binary|morse|binär\w*)\b.{0,80}?\b(?:follow|execute|obey|perform|act on|run|"
        r"do (?:what|exactly|as)|följ|utför|lyd|gör (?:det|vad|exakt)|befolge|führe|tu)\b",
    ],
}

# De-spaced words lose their gaps ("ignoreallpreviousinstructions"): a few phrases, matched squashed.
_SQUASHED = re.compile(
    r"ignore(?:all|any)?(?:the)?(?:previous|prior|above)(?:instructions|prompts|rules)|ignoreallinstructions|"
    r"disregard(?:all)?(?:previous|prior)instructions|ignoreraallatidigareinstruktioner|ignoreratidigareinstruktioner|"
    r"ignorierealle(?:vorherigen)?anweisungen|vergissalle(?:vorherigen)?anweisungen|"
    r"revealyour(?:system)?prompt|youarenowdan|duärnudan|developermodeenabled|doanythingnow"
)
# "DAN" as a persona needs the capitals: "Dan" and "dan" are a name and a Swedish/German word.
_DAN_RE = re.compile(r"\b(?:DAN|STAN|DUDE|AIM)\b(?=.{0,200}\b(?:rules?|regler|Regeln|policy|policies|filters?|"
                     r"anything|allt|alles|character|roll|Rolle|restrictions?|begränsningar|Einschränkungen)\b)",
                     re.DOTALL)


_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class _Alt:
    rule: str
    rx: re.Pattern[str]
    # The words a match starts with: the regex is tried only where they occur (`match` at a few
    # positions instead of `search` over the whole text). None, or any prefixes: searched.
    lead_exact: frozenset[str] | None
    lead_prefixes: tuple[str, ...]


def _words(spec: str) -> tuple[set[str], set[str]]:
    return {w for w in spec.split() if not w.endswith("*")}, {w[:-1] for w in spec.split() if w.endswith("*")}


def _build_index() -> tuple[list[_Alt], dict[str, list[int]], dict[str, list[int]], list[int]]:
    """Compile every alternative; index it by its trigger words (exact and prefixes)."""
    alts: list[_Alt] = []
    exact: dict[str, list[int]] = {}
    prefix: dict[str, list[int]] = {}
    always: list[int] = []
    for name, entries in RULES.items():
        for entry in entries:
            rx, given = entry if isinstance(entry, tuple) else (entry, None)
            lead = leading_words(rx)
            alts.append(_Alt(name, re.compile(rx, re.DOTALL), frozenset(lead[0]) if lead else None,
                             tuple(sorted(lead[1])) if lead else ()))
            words = _words(given) if given is not None else trigger_words(rx)
            if words is None:
                always.append(len(alts) - 1)
                continue
            for w in words[0]:
                exact.setdefault(w, []).append(len(alts) - 1)
            for w in words[1]:
                prefix.setdefault(w, []).append(len(alts) - 1)
    return alts, exact, prefix, always


_ALTS, _EXACT, _PREFIX, _ALWAYS = _build_index()
# Longest first, so a match names the longest prefix; shorter prefixes inside it are added below.
_PREFIX_RE = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(_PREFIX, key=len, reverse=True))) + ")")


_ANCHOR_FROM = 600  # below this length a plain search is cheaper than collecting word positions


def _fires(alt: _Alt, form: str, positions: dict[str, list[int]] | None) -> bool:
    if positions is None or alt.lead_exact is None or alt.lead_prefixes:
        return alt.rx.search(form) is not None
    return any(alt.rx.match(form, p) for w in alt.lead_exact for p in positions.get(w, ()))


def _rules_in(form: str, hits: list[str]) -> None:
    words = set(_WORD_RE.findall(form))
    ids = set(_ALWAYS)
    for w in words & _EXACT.keys():
        ids.update(_EXACT[w])
    for m in _PREFIX_RE.finditer(form):
        p = m.group()
        for k in range(2, len(p) + 1):
            if p[:k] in _PREFIX:
                ids.update(_PREFIX[p[:k]])
    positions: dict[str, list[int]] | None = None
    if len(form) >= _ANCHOR_FROM:
        positions = {}
        for m in _WORD_RE.finditer(form):
            positions.setdefault(m.group(), []).append(m.start())
    for i in sorted(ids):
        alt = _ALTS[i]
        if alt.rule not in hits and _fires(alt, form, positions):
            hits.append(alt.rule)


# The scan costs a few µs per 100 characters; a pasted document would cost milliseconds on the
# event loop, so only its head and tail are scanned (where instructions to the model usually sit).
_HEAD, _TAIL = 3000, 1500


def match_rules(text: str) -> list[str]:
    """Names of the rules that fire on `text` or on one of its de-obfuscated variants."""
    if len(text) > _HEAD + _TAIL:
        text = f"{text[:_HEAD]}\n{text[-_TAIL:]}"
    forms = variants(text)
    hits: list[str] = []
    for form in forms:
        _rules_in(form, hits)
    if len(forms) > 1 and "override_instructions" not in hits and any(_SQUASHED.search(squash(f)) for f in forms[1:]):
        hits.append("obfuscated_phrase")
    if "jailbreak_persona" not in hits and _DAN_RE.search(text):
        hits.append("jailbreak_persona")
    return hits
