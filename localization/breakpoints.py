"""Where a subtitle's text may break, and how good each place is.

Text becomes tokens whose concatenation is the text: words with their trailing space
(spaced scripts), single characters and embedded Latin words (Chinese, Japanese), and
syllable clusters inside space-separated phrases (Thai). ``penalties(tokens, rules)[i]``
is the cost of breaking before token ``i``: nothing after a sentence, a little after a
clause, more for weaker places, and ``BAD`` for pairs a reader must see together
(article + noun, first + last name, pronoun + verb, verb + auxiliary or negation).
The word lists are small and per language: a best effort, not a parser.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

from localization.rules import CHINESE, JAPANESE, THAI, SubtitleRules

SENTENCE = 0.0  # after . ? ! 。 ？ ！
CLAUSE = 1.0  # after , ; : — … ， 、 ； ：
GOOD = 2.0  # before a conjunction or a preposition
PARTICLE = 3.0  # after a Japanese particle
PLAIN = 5.0  # between two words (or two CJK characters) with nothing to recommend it
IN_WORD = 20.0  # inside a Thai phrase that has no space to break at
GUESSED = 25.0  # adjective + noun, found by a word list
BAD = 50.0  # article + noun, name, pronoun + verb, auxiliary or negation + verb
NEVER = 1000.0  # a line would start with closing punctuation or end with opening

_SENTENCE_END = set(".?!。？！‼⁇⁈⁉")
_CLAUSE_END = set(",;:，、；：—–‒")
_ELLIPSES = ("...", "…", "‥")
_CLOSERS = set("\"'”’»›)]}」』）】〕〉》〗〙〛")
_OPENERS = set("\"'“‘«‹([{¿¡「『（【〔〈《〖〘〚")
# Characters a CJK line must not start with (kinsoku): closing punctuation, small kana,
# the prolonged sound mark and iteration marks.
_NO_LINE_START = set(
    "、。，．？！：；）」』】〕〉》〗〙〛”’…‥・—～〜ー々ゝゞヽヾ"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ)]},.?!:;%"
)
_SPACED_NO_LINE_START = set(")]}»›,.;:?!%")
_NO_LINE_END = set("（「『【〔〈《〖〘〚“‘([{")
_JAPANESE_PARTICLES = set("はがをにでへとも")
_THAI_LEADING_VOWELS = set("เแโใไ")


def tokens(text: str, rules: SubtitleRules) -> list[str]:
    """Split text into the units a line may break between; they join back to the text."""
    text = normalize_space(text, rules)
    if rules.cjk:
        return _cjk_tokens(text)
    if rules.script == THAI:
        return [cluster for word in _words(text) for cluster in _thai_clusters(word)]
    return _words(text)


def penalties(units: list[str], rules: SubtitleRules) -> list[float]:
    """Return the cost of breaking before each token (the first entry is unused, 0)."""
    pairs = list(pairwise(units))
    if rules.cjk:
        rest = [_cjk_penalty(a, b, rules.script) for a, b in pairs]
        if rules.script == CHINESE:
            rest = _chinese_words(units, rest)
    elif rules.script == THAI:
        # Thai puts spaces between phrases and sentences, not between words.
        rest = [CLAUSE if a.endswith(" ") else IN_WORD for a, _ in pairs]
    else:
        words = _WORDS.get(rules.language.split("-")[0], _NO_WORDS)
        rest = [_spaced_penalty(a, b, words) for a, b in pairs]
    return [0.0, *rest]


def unbreakable_units(line: str, rules: SubtitleRules) -> list[str]:
    """Return the parts of a line no break may split: its words, or Latin words in CJK."""
    if rules.cjk:
        return [unit.strip() for unit in _cjk_tokens(normalize_space(line, rules))]
    if rules.script == THAI:
        return [unit.strip() for unit in tokens(line, rules)]
    return line.split()


def normalize_space(text: str, rules: SubtitleRules) -> str:
    """Collapse runs of spaces and line breaks; a break between two CJK characters goes."""
    joined = ""
    for line in re.split(r"\r\n|\r|\n", text):
        line = re.sub(r"[ \t\f\v]+", " ", line).strip()
        if line and joined:
            glue = "" if rules.cjk and _wide(joined[-1]) and _wide(line[0]) else " "
            joined = f"{joined}{glue}{line}"
        elif line:
            joined = line
    return joined


def _words(text: str) -> list[str]:
    return re.findall(r"[^ ]+ *", text)


def _cjk_tokens(text: str) -> list[str]:
    units: list[str] = []
    opening = ""
    index = 0
    while index < len(text):
        char = text[index]
        if units and not opening and (char.isspace() or char in _NO_LINE_START or _mark(char)):
            units[-1] += char
            index += 1
            continue
        if char in _NO_LINE_END:
            opening += char
            index += 1
            continue
        end = _latin_run_end(text, index) if _narrow_word_char(char) else index + 1
        units.append(opening + text[index:end])
        opening = ""
        index = end
    if opening:
        units.append(opening)
    return units


def _latin_run_end(text: str, index: int) -> int:
    """Return where a run of Latin letters, digits and inner ' - . starts no longer."""
    end = index + 1
    while end < len(text):
        if _narrow_word_char(text[end]) or _mark(text[end]):
            end += 1
        elif text[end] in "'’-._" and end + 1 < len(text) and _narrow_word_char(text[end + 1]):
            end += 2
        else:
            break
    return end


def _thai_clusters(word: str) -> list[str]:
    clusters: list[str] = []
    for char in word:
        if clusters and not _starts_thai_cluster(char, clusters[-1][-1]):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _starts_thai_cluster(char: str, previous: str) -> bool:
    if char == " ":
        return False
    if previous in _THAI_LEADING_VOWELS:
        return False  # a leading vowel is written before the consonant it is said after
    if "\u0e01" <= char <= "\u0e2e" or char in _THAI_LEADING_VOWELS:
        return True
    return not _is_thai(char) and _is_thai(previous)


def _cjk_penalty(before: str, after: str, script: str) -> float:
    if before[-1:].isspace():
        return CLAUSE  # a space in CJK text marks a pause
    end = before.rstrip("".join(_CLOSERS))[-1:] or before[-1:]
    if before.endswith(_ELLIPSES) or end in _CLAUSE_END:
        return CLAUSE
    if end in _SENTENCE_END:
        return SENTENCE
    if script == JAPANESE and end in _JAPANESE_PARTICLES and not _hiragana(after[:1]):
        return PARTICLE
    return PLAIN


def _chinese_words(units: list[str], rates: list[float]) -> list[float]:
    """Keep common words whole and break before conjunctions, where the break was plain."""
    rates = list(rates)
    text = "".join(units)
    boundary = {offset: i for i, offset in enumerate(_offsets(units)[1:-1])}  # text -> rate
    for match in _CHINESE_WORD.finditer(text):
        start, end = match.span()
        if start in boundary and match.group() in _CHINESE_CONJUNCTIONS:
            rates[boundary[start]] = min(rates[boundary[start]], GOOD)
        for offset in range(start + 1, end):
            if offset in boundary and rates[boundary[offset]] == PLAIN:
                rates[boundary[offset]] = GUESSED
    return rates


def _offsets(units: list[str]) -> list[int]:
    offsets = [0]
    for unit in units:
        offsets.append(offsets[-1] + len(unit))
    return offsets


@dataclass(frozen=True)
class _Words:
    """One language's small word lists, lower case."""

    no_break_after: frozenset[str] = frozenset()
    no_break_before: frozenset[str] = frozenset()
    break_before: frozenset[str] = frozenset()
    pronouns: frozenset[str] = frozenset()  # no break after, unless a clause starts there
    adjectives: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()
    possessive: str | None = None  # the ending of a possessive, as in "my mother's surgery"

    def function_word(self, word: str) -> bool:
        return word in self.no_break_after or word in self.no_break_before or word in self.pronouns

    def binds(self, first: str, second: str) -> bool:
        """Whether a break between these two words splits a pair a reader needs whole."""
        if first in self.no_break_after or second in self.no_break_before:
            return True
        if first in self.pronouns:
            return second not in self.break_before  # "did it | for", but never "she | knows"
        return bool(self.possessive) and first.endswith(self.possessive)


def _spaced_penalty(before: str, after: str, words: _Words) -> float:
    left, right = before.rstrip(), after.rstrip()
    opening_only = bool(right) and all(char in _OPENERS for char in right)
    if (_punctuation_only(right) and not opening_only) or right[:1] in _SPACED_NO_LINE_START:
        return NEVER  # French "Quoi ?" keeps its "?"; no line starts with ")" or ","
    if left and all(char in _OPENERS for char in left):
        return NEVER
    first, second = _bare(left), _bare(right)
    end = left.rstrip("".join(_CLOSERS))[-1:] or left[-1:]
    if left.endswith(_ELLIPSES) or end in _CLAUSE_END:
        return CLAUSE
    if end in _SENTENCE_END and not _title(left, first, words):
        return SENTENCE
    if end in _SENTENCE_END:
        return BAD  # "Mr. | Smith", "J. | Smith"
    if words.binds(first, second):
        return BAD
    if _name_pair(left, right, words):
        return BAD
    if _adjective_pair(first, second, words):
        return GUESSED
    if second in words.break_before or right[:1] in _OPENERS or right[:1] in "—–-":
        return GOOD
    return PLAIN


def _title(word: str, bare: str, words: _Words) -> bool:
    initial = len(word) == 2 and word[0].isupper() and word[1] == "."
    return initial or f"{bare}." in words.titles


def _name_pair(left: str, right: str, words: _Words) -> bool:
    """Whether two words look like parts of one name (both capitalized, neither a function word)."""
    a, b = left.lstrip("".join(_OPENERS)), right.lstrip("".join(_OPENERS))
    if not (a[:1].isupper() and b[:1].isupper()) or a == "I":
        return False
    return not words.function_word(_bare(a)) and not words.function_word(_bare(b))


def _adjective_pair(first: str, second: str, words: _Words) -> bool:
    def content(word: str) -> bool:
        return word.isalpha() and not words.function_word(word) and word not in words.adjectives

    if first in words.adjectives and content(second):
        return True
    return second in words.adjectives and content(first)


def _bare(word: str) -> str:
    stripped = word.strip("".join(_OPENERS | _CLOSERS) + ".,;:?!…—–-")
    return stripped.replace("’", "'").lower()


def _punctuation_only(word: str) -> bool:
    return bool(word) and all(unicodedata.category(char).startswith("P") for char in word)


def _narrow_word_char(char: str) -> bool:
    return char.isalnum() and not _wide(char)


def _wide(char: str) -> bool:
    return bool(char) and unicodedata.east_asian_width(char) in ("W", "F")


def _mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


def _hiragana(char: str) -> bool:
    return bool(char) and "\u3041" <= char <= "\u309f"


def _is_thai(char: str) -> bool:
    return "\u0e00" <= char <= "\u0e7f"


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _language(
    *,
    determiners: str,
    prepositions: str,
    conjunctions: str,
    pronouns: str,
    verbs: str,
    adjectives: str,
    titles: str = "",
    no_break_before: str = "",
    possessive: str | None = None,
) -> _Words:
    """Build one language's lists: never break after determiners, prepositions,
    conjunctions, auxiliaries and negations, nor after a pronoun before its verb."""
    return _Words(
        no_break_after=_set(f"{determiners} {prepositions} {conjunctions} {verbs}"),
        no_break_before=_set(no_break_before),
        break_before=_set(f"{prepositions} {conjunctions}"),
        pronouns=_set(pronouns),
        adjectives=_set(adjectives),
        titles=_set(titles),
        possessive=possessive,
    )


# A small, common vocabulary: Chinese is written without spaces, and Hookline carries no
# dictionary to find its words.
_CHINESE_CONJUNCTIONS = _set(
    "但是 可是 因为 所以 如果 而且 还是 然后 不过 虽然 或者 只是 要是 既然 于是"
)
_CHINESE_WORD = re.compile(
    "|".join(
        sorted(
            _CHINESE_CONJUNCTIONS
            | _set(
                "什么 知道 我们 你们 他们 她们 没有 不是 可以 现在 已经 一定 真的 时候 今天 "
                "明天 昨天 晚上 早上 为什么 怎么 这样 那样 这个 那个 一个 一起 自己 喜欢 "
                "觉得 告诉 应该 需要 希望 相信 事情 东西 地方 朋友 孩子 老公 老婆 爸爸 妈妈 "
                "哥哥 姐姐 弟弟 妹妹 先生 小姐 公司 结婚 离婚 合同 对不起 谢谢 别人 任何 "
                "所有 问题 回来 出去 哪里 放心 照片"
            ),
            key=len,
            reverse=True,
        )
    )
)
_NO_WORDS = _Words()
_WORDS: dict[str, _Words] = {
    "en": _language(
        determiners="a an the this these those my your his her its our their some any no "
        "every each another such",
        prepositions="in on at to for from with without about of by into onto over under "
        "after before between through during against behind near across toward towards",
        conjunctions="and but or nor so because if when while although though unless until "
        "than whether",
        pronouns="i you he she it we they i'm you're he's she's it's we're they're i've "
        "you've we've they've i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll "
        "we'll they'll",
        verbs="am is are was were be been being have has had do does did will would shall "
        "should can could may might must don't doesn't didn't won't wouldn't can't cannot "
        "couldn't shouldn't isn't aren't wasn't weren't haven't hasn't hadn't mustn't not "
        "never let's gonna wanna gotta",
        adjectives="good bad big small little old new young long short great poor rich dear "
        "beautiful pretty ugly real true whole only last first next other own same dead "
        "black white red blue green dark happy sad best worst better worse free sweet cold "
        "hot wrong huge tiny entire perfect secret former handsome lovely stupid crazy fake "
        "single married pregnant",
        titles="mr. mrs. ms. dr. st. jr. sr. prof. mt. lt. sgt. capt.",
        no_break_before="not",
        possessive="'s",
    ),
    "es": _language(
        determiners="el la los las un una unos unas lo al del mi mis tu tus su sus nuestro "
        "nuestra nuestros nuestras vuestro vuestra este esta estos estas ese esa esos esas "
        "aquel aquella cada algún alguna ningún ninguna",
        prepositions="a ante bajo con contra de desde en entre hacia hasta para por según "
        "sin sobre tras durante",
        conjunctions="y e o u ni pero sino que porque cuando si aunque mientras como donde pues",
        pronouns="yo tú él ella nosotros nosotras vosotros vosotras ellos ellas usted "
        "ustedes me te se nos os le les",
        verbs="no nunca jamás he has ha hemos habéis han había habías habían voy vas va "
        "vamos van soy eres es somos son era fue estoy estás está estamos están",
        adjectives="buen bueno buena mal malo mala gran grande nuevo nueva viejo vieja "
        "joven pobre rico rica querido querida hermoso hermosa bonito bonita guapo guapa "
        "feo fea mejor peor primer primero primera último última otro otra mismo misma "
        "muerto muerta negro negra blanco blanca rojo roja pequeño pequeña verdadero "
        "verdadera falso falsa secreto secreta embarazada casado casada",
        titles="sr. sra. srta. dr. dra. d. dña.",
    ),
    "pt": _language(
        determiners="o a os as um uma uns umas meu minha meus minhas teu tua seu sua seus "
        "suas nosso nossa este esta esse essa aquele aquela no na nos nas do da dos das ao "
        "à pelo pela num numa",
        prepositions="de em para por com sem sobre entre até contra desde após pra",
        conjunctions="e ou mas porque que quando se como embora enquanto",
        pronouns="eu tu você ele ela nós vocês eles elas me te lhe vos lhes",
        verbs="não nunca jamais sou é somos são era foi estou está estão tenho tem têm "
        "temos vou vai vamos vão há",
        adjectives="bom boa mau má grande novo nova velho velha jovem pobre rico rica "
        "querido querida lindo linda bonito bonita feio feia melhor pior primeiro "
        "primeira último última outro outra mesmo mesma morto morta preto preta branco "
        "branca vermelho vermelha pequeno pequena verdadeiro verdadeira falso falsa "
        "secreto secreta grávida casado casada",
        titles="sr. sra. srta. dr. dra.",
    ),
    "fr": _language(
        determiners="le la l' les un une des du au aux mon ma mes ton ta tes son sa ses "
        "notre nos votre vos leur leurs ce cet cette ces",
        prepositions="à de d' en dans sur sous avec sans pour par chez vers entre contre "
        "depuis pendant avant après",
        conjunctions="et ou mais donc car ni que qu' quand si comme parce lorsque",
        pronouns="je j' tu il elle on nous vous ils elles me m' te t' se s' lui y",
        verbs="ne n' suis es est sommes êtes sont ai as a avons avez ont vais vas va "
        "allons allez vont était étais",
        adjectives="bon bonne mauvais mauvaise grand grande petit petite nouveau nouvelle "
        "vieux vieille jeune pauvre riche cher chère beau belle joli jolie meilleur "
        "meilleure pire premier première dernier dernière autre même mort morte noir "
        "noire blanc blanche rouge vrai vraie faux fausse secret secrète enceinte marié "
        "mariée",
        titles="m. mme. mlle. dr. me.",
        no_break_before="pas",
    ),
    "de": _language(
        determiners="der die das den dem des ein eine einen einem einer eines mein meine "
        "meinen meinem meiner dein deine deinen sein seine seinen ihre ihren unser unsere "
        "euer eure kein keine keinen dieser diese dieses diesen",
        prepositions="an auf aus bei bis durch für gegen hinter in mit nach neben ohne über "
        "um unter von vor zu zum zur im am ins vom beim zwischen seit wegen während",
        conjunctions="und oder aber denn dass weil wenn als ob obwohl sondern damit bevor nachdem",
        pronouns="ich du er sie es wir ihr",
        verbs="bin bist ist sind seid war waren habe hast hat haben habt hatte werde wirst "
        "wird werden kann kannst können muss musst müssen will willst wollen soll sollst "
        "darf",
        adjectives="gut gute guten guter schlecht groß große großen klein kleine kleinen "
        "neu neue neuen alt alte alten jung junge arm reich lieb liebe lieber schön schöne "
        "besser beste erste letzte andere tot tote schwarz schwarze weiß weiße rot rote "
        "wahr wahre falsch falsche geheim geheime schwanger verheiratet",
        titles="hr. fr. dr. prof.",
        no_break_before="nicht",
    ),
    "it": _language(
        determiners="il lo la l' i gli le un uno una un' mio mia miei mie tuo tua suo sua "
        "nostro nostra vostro vostra questo questa quel quello quella del della dei degli "
        "delle al alla ai agli alle nel nella sul sulla dal dalla",
        prepositions="a di da in con su per tra fra senza dopo prima",
        conjunctions="e ed o ma che perché se quando come mentre",
        pronouns="io tu lui lei noi voi loro mi ti si ci vi ne",
        verbs="non sono sei è siamo siete ho hai ha abbiamo avete hanno era sto stai sta "
        "vado vai va",
        adjectives="buon buono buona cattivo cattiva grande nuovo nuova vecchio vecchia "
        "giovane povero povera ricco ricca caro cara bello bella migliore peggiore primo "
        "prima ultimo ultima altro altra stesso stessa morto morta nero nera bianco "
        "bianca rosso rossa piccolo piccola vero vera falso falsa segreto segreta incinta "
        "sposato sposata",
        titles="sig. sig.ra dott. dott.ssa prof.",
    ),
    "ca": _language(
        determiners="el la l' els les un una uns unes en na meu meva teu teva seu seva "
        "aquest aquesta aquests aquestes aquell aquella del dels al als pel pels",
        prepositions="a de d' amb per sense sobre entre fins cap des contra",
        conjunctions="i o però que perquè quan si com mentre",
        pronouns="jo tu ell ella nosaltres vosaltres ells elles em et es ens us li hi ho",
        verbs="no mai he has ha hem heu han vaig vas va vam vau van sóc ets és som sou són era",
        adjectives="bo bona dolent dolenta gran nou nova vell vella jove pobre ric rica "
        "estimat estimada bonic bonica millor pitjor primer primera últim última altre "
        "altra mateix mateixa mort morta negre negra blanc blanca vermell vermella petit "
        "petita veritable fals falsa secret secreta embarassada casat casada",
        titles="sr. sra. dr. dra.",
    ),
    "ko": _language(
        determiners="",
        prepositions="",
        conjunctions="하지만 그리고 그런데 그래서 그러나 그러니까 그럼 왜냐하면 근데",
        pronouns="",
        verbs="",
        adjectives="",
    ),
    "id": _language(
        determiners="sang si para sebuah seorang",
        prepositions="di ke dari pada untuk dengan tentang oleh kepada dalam tanpa sejak "
        "sampai bagi antara",
        conjunctions="dan atau tetapi tapi karena kalau jika ketika saat supaya agar bahwa "
        "sehingga walaupun meskipun",
        pronouns="aku saya kamu engkau kau anda dia ia beliau kami kita mereka",
        verbs="tidak tak bukan jangan belum akan sudah telah sedang masih harus bisa dapat "
        "mau ingin pernah",
        adjectives="baik buruk besar kecil baru lama tua muda miskin kaya cantik tampan "
        "jelek terbaik pertama terakhir lain sama mati hitam putih merah benar palsu "
        "rahasia hamil",
        titles="bpk. ibu. dr. sdr.",
        # "rumah ini", "orang itu": the demonstrative follows its noun.
        no_break_before="ini itu",
    ),
}
