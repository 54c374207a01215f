"""Re-runs of agency copy in Korean, Thai, Russian, Arabic, German, Spanish and French, as a
user meets them through ``dedup scan``: a verbatim re-run, a trimmed one, one under the
agency's dateline and one mixing two agencies' stories are each linked to the wire copy they
came from, with exact passage offsets; a story on a similar subject is linked to nothing; the
language of each text is read; and texts in different languages are never linked.

Every text here was written for these tests (no corpus text).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup.cli import app
from dedup.text.credits import find_credits
from dedup.text.scripts import tokens


@dataclass(frozen=True)
class Language:
    """One language's fixtures: two agencies' stories, an unrelated story on a similar
    subject, the re-running outlet's own line and sentence, and the agency's credit."""

    code: str
    wire: str
    other_wire: str
    unrelated: str
    own_line: str  # above the verbatim re-run
    own_sentence: str  # closing the mixed re-run
    dateline_prefix: str  # put before the wire copy ("" for none)
    dateline_suffix: str  # put after it ("" for none)
    agency: str | None  # what the dateline re-run's credits name (None: not recognised)


KO = Language(
    code="ko",
    wire=(
        "한국은행 금융통화위원회는 18일 통화정책방향 회의를 열고 기준금리를 연 3.25%에서 "
        "3.00%로 0.25%포인트 내렸다. 금통위가 기준금리를 내린 것은 지난해 11월 이후 넉 달 "
        "만이며, 이번 결정은 위원 전원 일치로 이뤄졌다.\n\n"
        "한국은행 총재는 회의 직후 열린 기자간담회에서 내수 회복이 예상보다 더디고 수출 증가세도 "
        "눈에 띄게 둔화하고 있어 경기 하방 위험에 선제적으로 대응할 필요가 있었다고 설명했다.\n\n"
        "다만 총재는 원·달러 환율의 변동성이 여전히 크고 수도권 주택 가격이 다시 오를 조짐을 "
        "보이고 있는 만큼 추가 인하 여부는 앞으로 나올 지표를 보고 신중하게 판단하겠다고 "
        "덧붙였다.\n\n"
        "시장에서는 올해 하반기에 한 차례 더 금리가 내려갈 수 있다는 전망이 나온다. 채권시장에서 "
        "국고채 3년물 금리는 이날 오전 한때 연 2.6%대까지 떨어지며 연중 최저치를 기록했다."
    ),
    other_wire=(
        "산림청은 19일 경북 의성군의 한 야산에서 발생한 산불이 강한 바람을 타고 인근 마을 쪽으로 "
        "빠르게 번지고 있다며 산불 대응 최고 단계인 3단계를 발령했다고 밝혔다.\n\n"
        "당국은 진화 헬기 30여 대와 진화 인력 1천여 명을 현장에 투입해 불길을 잡고 있으며, 주민 "
        "수백 명이 인근 초등학교와 마을회관 등 임시 대피소로 몸을 피했다.\n\n"
        "기상청은 이날 밤까지 초속 15m 안팎의 강한 바람이 계속 이어질 것으로 예보해 진화 작업에 "
        "어려움이 예상된다. 산림 당국은 불이 완전히 꺼진 뒤 정확한 피해 규모와 발화 원인을 조사할 "
        "예정이다.\n\n"
        "소방청도 인접 시도의 소방 인력과 장비를 현장에 추가로 보내 민가와 문화재 주변에 "
        "방화선을 구축하는 데 힘을 보태고 있으며, 주민들에게 야외 소각을 삼가 달라고 당부했다."
    ),
    unrelated=(
        "기획재정부는 20일 발표한 최근 경제동향 보고서에서 소비와 건설 투자가 여전히 부진한 "
        "가운데 수출이 반도체를 중심으로 완만한 회복 흐름을 이어가고 있다고 평가했다.\n\n"
        "정부는 고금리 부담이 점차 완화되면 하반기부터 내수가 조금씩 살아날 것으로 내다봤지만, "
        "한국은행의 통화정책 결정과 미국의 관세 정책이 경기 흐름의 주요 변수가 될 수 있다고 "
        "밝혔다.\n\n"
        "기재부 관계자는 소상공인 지원과 건설 경기 보강을 위한 추가 대책을 관계 부처와 협의해 "
        "다음 달 중 마련하겠다고 말했다. 구체적인 지원 규모는 아직 정해지지 않았다.\n\n"
        "한편 전문가들은 가계부채 증가세와 부동산 시장의 과열 가능성을 고려하면 정부와 "
        "통화당국의 정책 공조가 그 어느 때보다 중요하다고 지적했다."
    ),
    own_line="이 기사는 제휴 통신사의 기사를 그대로 전재한 것입니다.",
    own_sentence="편집자 주: 두 기사는 제휴 통신사가 제공한 것으로 내용은 바뀌지 않았습니다.",
    dateline_prefix="(서울=연합뉴스) ",
    dateline_suffix="",
    agency="Yonhap",
)

TH = Language(
    code="th",
    wire=(
        "คณะกรรมการนโยบายการเงินมีมติเป็นเอกฉันท์ให้ลดอัตราดอกเบี้ยนโยบายลงร้อยละ 0.25 "
        "เหลือร้อยละ 2.00 ต่อปี โดยให้มีผลทันทีตั้งแต่วันพุธที่ผ่านมา "
        "นับเป็นการปรับลดครั้งแรกในรอบกว่าหนึ่งปี\n\n"
        "เลขานุการคณะกรรมการกล่าวว่า เศรษฐกิจไทยมีแนวโน้มขยายตัวต่ำกว่าที่คาดไว้ "
        "เนื่องจากการส่งออกชะลอตัวและการบริโภคภาคครัวเรือนยังอ่อนแอ "
        "ขณะที่อัตราเงินเฟ้อทั่วไปยังอยู่ในระดับต่ำกว่ากรอบเป้าหมาย\n\n"
        "ธนาคารแห่งประเทศไทยปรับลดประมาณการการเติบโตทางเศรษฐกิจของปีนี้ลงเหลือร้อยละ 2.5 "
        "จากเดิมร้อยละ 2.9 และระบุว่าความไม่แน่นอนจากนโยบายการค้าของสหรัฐฯ "
        "ยังเป็นความเสี่ยงสำคัญต่อภาคการผลิต\n\n"
        "นักวิเคราะห์หลายสำนักคาดว่า คณะกรรมการอาจตัดสินใจลดดอกเบี้ยลงอีกหนึ่งครั้งภายในสิ้นปีนี้ "
        "หากตัวเลขการส่งออกในไตรมาสถัดไปยังไม่ฟื้นตัวตามที่หวังไว้"
    ),
    other_wire=(
        "กรมป้องกันและบรรเทาสาธารณภัยรายงานว่า ฝนที่ตกหนักต่อเนื่องตลอดสามวันที่ผ่านมา "
        "ทำให้เกิดน้ำท่วมฉับพลันและดินโคลนถล่มในหลายอำเภอของจังหวัดเชียงรายและจังหวัดน่าน\n\n"
        "เจ้าหน้าที่ได้อพยพประชาชนกว่าสองพันครัวเรือนไปยังศูนย์พักพิงชั่วคราว "
        "และเร่งส่งเรือท้องแบนพร้อมอาหารและน้ำดื่มเข้าไปช่วยเหลือผู้ที่ยังติดค้างอยู่ในบ้านเรือน\n\n"
        "กรมอุตุนิยมวิทยาเตือนว่า พายุลูกใหม่อาจเคลื่อนตัวเข้าใกล้ภาคเหนือในช่วงปลายสัปดาห์นี้ "
        "จึงขอให้ประชาชนที่อาศัยอยู่ริมแม่น้ำและเชิงเขาติดตามประกาศของทางราชการอย่างใกล้ชิด"
    ),
    unrelated=(
        "กระทรวงพาณิชย์เปิดเผยว่า มูลค่าการส่งออกของไทยในเดือนที่ผ่านมาขยายตัวร้อยละ 4.2 "
        "เมื่อเทียบกับช่วงเดียวกันของปีก่อน โดยได้แรงหนุนจากสินค้าอิเล็กทรอนิกส์และยางพารา\n\n"
        "ปลัดกระทรวงพาณิชย์กล่าวว่า ภาครัฐจะเดินหน้าเจรจากับสหรัฐฯ "
        "เพื่อลดผลกระทบจากมาตรการภาษีนำเข้า พร้อมทั้งเร่งหาตลาดใหม่ในตะวันออกกลางและแอฟริกา\n\n"
        "ภาคเอกชนยังกังวลว่า ค่าเงินบาทที่แข็งค่าขึ้นและต้นทุนการขนส่งที่สูงขึ้น "
        "อาจกดดันความสามารถในการแข่งขันของผู้ส่งออกไทยในช่วงครึ่งหลังของปี"
    ),
    own_line="ข่าวนี้เผยแพร่ซ้ำจากสำนักข่าวต่างประเทศ",
    own_sentence=(
        "กองบรรณาธิการรวบรวมรายงานทั้งสองเรื่องจากสำนักข่าวพันธมิตรโดยไม่ได้แก้ไขเนื้อหา "
        "เพื่อให้ผู้อ่านได้ติดตามสถานการณ์ล่าสุดอย่างครบถ้วนในที่เดียว"
    ),
    dateline_prefix="",
    dateline_suffix="\n\n(AFP)",
    agency="AFP",
)

RU = Language(
    code="ru",
    wire=(
        "Правительство России утвердило программу поддержки малого и среднего бизнеса на три "
        "года. Общий объем финансирования составит около 150 млрд рублей.\n\n"
        "Как сообщил на заседании кабмина министр экономического развития, основная часть "
        "средств будет направлена на льготное кредитование предприятий обрабатывающей "
        "промышленности и сферы услуг.\n\n"
        "Кроме того, программа предусматривает снижение страховых взносов для компаний, "
        "которые создают новые рабочие места в малых городах и сельской местности.\n\n"
        "Первые заявки на участие в программе предприниматели смогут подать уже в апреле "
        "через портал государственных услуг, уточнили в пресс-службе министерства."
    ),
    other_wire=(
        "Сильный снегопад, который обрушился на Екатеринбург в ночь на вторник, почти "
        "парализовал движение транспорта в городе. На главных дорогах образовались "
        "многокилометровые пробки.\n\n"
        "По данным городской администрации, на уборку улиц вышли более 500 единиц техники. "
        "Несколько рейсов в аэропорту Кольцово были задержаны или перенаправлены в другие "
        "города.\n\n"
        "Синоптики предупреждают, что снег будет идти до конца недели, а в выходные в регионе "
        "ожидается похолодание до минус 25 градусов."
    ),
    unrelated=(
        "Центральный банк России сохранил ключевую ставку на прежнем уровне, сообщил регулятор "
        "в пятницу. Это решение совпало с ожиданиями большинства опрошенных аналитиков.\n\n"
        "В сообщении банка говорится, что инфляция постепенно замедляется, однако пока "
        "остается заметно выше целевого уровня в четыре процента.\n\n"
        "Представители малого и среднего бизнеса надеются, что снижение ставки позволит "
        "сделать кредиты для предприятий более доступными уже в этом году."
    ),
    own_line="Эта новость публикуется по материалам информационного агентства.",
    own_sentence="Редакция объединила оба сообщения агентств в одном материале для читателей.",
    # TASS's own dateline ("МОСКВА, 18 марта. /ТАСС/. ") is not recognised by find_credits
    # (see test_the_tass_dateline_names_tass below); its closing "(ТАСС)" is.
    dateline_prefix="",
    dateline_suffix="\n\n(ТАСС)",
    agency="TASS",
)

AR = Language(
    code="ar",
    wire=(
        "قرر البنك المركزي المصري يوم الخميس خفض أسعار الفائدة الرئيسية بمقدار مئتي نقطة "
        "أساس، في أول خفض منذ أكثر من أربع سنوات، مع تراجع معدلات التضخم في البلاد.\n\n"
        "وقالت لجنة السياسة النقدية في بيان إن القرار يأتي في ضوء التحسن الملحوظ في توقعات "
        "الأسعار واستقرار سعر صرف الجنيه خلال الأشهر الماضية.\n\n"
        "وأضاف البيان أن اللجنة ستواصل متابعة التطورات الاقتصادية عن كثب، ولن تتردد في "
        "استخدام جميع أدواتها المتاحة للحفاظ على استقرار الأسعار على المدى المتوسط.\n\n"
        "ويتوقع محللون أن يسهم خفض الفائدة في تخفيف أعباء الديون عن الشركات وتشجيع الاستثمار "
        "الخاص، بعد فترة طويلة من السياسة النقدية المتشددة."
    ),
    other_wire=(
        "ضرب زلزال بقوة 5.8 درجات على مقياس ريختر جنوب غرب تركيا صباح الأحد، ما أثار حالة من "
        "الذعر بين السكان الذين خرجوا إلى الشوارع في عدة بلدات.\n\n"
        "وقالت إدارة الكوارث والطوارئ إن الهزة شعر بها سكان عدة مدن ساحلية، مشيرة إلى عدم ورود "
        "تقارير فورية عن وقوع إصابات أو أضرار كبيرة في المباني.\n\n"
        "وأوضحت الإدارة أن فرق الإنقاذ توجهت إلى القرى القريبة من مركز الزلزال لتقييم الوضع، "
        "فيما سجلت محطات الرصد عدة هزات ارتدادية خفيفة خلال الساعات التالية."
    ),
    unrelated=(
        "أعلن البنك المركزي الأردني يوم الأحد الإبقاء على أسعار الفائدة دون تغيير، مشيرا إلى أن "
        "معدلات التضخم في المملكة ما زالت ضمن المستويات المستهدفة.\n\n"
        "وقال محافظ البنك في مؤتمر صحفي إن الاقتصاد الأردني أظهر قدرة على الصمود رغم التوترات "
        "الإقليمية، متوقعا أن يبلغ النمو نحو ثلاثة في المئة هذا العام.\n\n"
        "وأكد المحافظ أن البنك سيواصل دعم القطاعات الإنتاجية من خلال برامج التمويل الميسر "
        "للشركات الصغيرة والمتوسطة في مختلف المحافظات."
    ),
    own_line="ننشر هذا الخبر نقلا عن وكالة أنباء دولية كما ورد من المصدر.",
    own_sentence="وقد جمعت هيئة التحرير الخبرين في تقرير واحد لمتابعة آخر التطورات في المنطقة.",
    dateline_prefix="",
    dateline_suffix="\n\n(AFP)",
    agency="AFP",
)

DE = Language(
    code="de",
    wire=(
        "Die Bundesregierung hat am Mittwoch ein Entlastungspaket für energieintensive "
        "Unternehmen beschlossen. Die Stromsteuer für die Industrie soll ab dem kommenden Jahr "
        "dauerhaft sinken.\n\n"
        "Der Wirtschaftsminister sagte nach der Kabinettssitzung, man wolle damit Arbeitsplätze "
        "sichern. Die Maßnahme soll den Haushalt jährlich rund drei Milliarden Euro kosten.\n\n"
        "Wirtschaftsverbände begrüßten den Schritt, forderten aber weitere Entlastungen bei den "
        "Netzentgelten. Kritik kam von Umweltverbänden, die vor falschen Anreizen warnten.\n\n"
        "Der Bundestag soll sich noch vor der Sommerpause in erster Lesung mit dem Gesetzentwurf "
        "der Regierung befassen, wie ein Sprecher mitteilte."
    ),
    other_wire=(
        "Ein schweres Unwetter hat in der Nacht zum Sonntag im Süden Bayerns zahlreiche Keller "
        "überflutet und Bäume entwurzelt. Die Feuerwehren rückten nach Angaben der Polizei zu "
        "mehr als 400 Einsätzen aus.\n\n"
        "Auf mehreren Bahnstrecken südlich von München kam der Zugverkehr vorübergehend zum "
        "Erliegen, weil Äste auf die Oberleitungen gefallen waren. Verletzt wurde nach ersten "
        "Erkenntnissen niemand.\n\n"
        "Der Deutsche Wetterdienst warnte für den Nachmittag vor weiteren Gewittern mit "
        "Starkregen und Hagel. Die Aufräumarbeiten dürften nach Einschätzung der Behörden "
        "mehrere Tage dauern."
    ),
    unrelated=(
        "Die deutsche Industrie hat im April überraschend weniger Aufträge erhalten als im "
        "Vormonat. Wie das Statistische Bundesamt am Freitag mitteilte, sank der Auftragseingang "
        "um 1,4 Prozent.\n\n"
        "Besonders schwach war die Nachfrage aus dem Ausland, während die Bestellungen aus dem "
        "Inland leicht zulegten. Ökonomen hatten zuvor mit einem kleinen Plus gerechnet.\n\n"
        "Die Bundesregierung setzt darauf, dass die geplanten Entlastungen bei den Energiepreisen "
        "der Industrie in der zweiten Jahreshälfte wieder neuen Schwung geben."
    ),
    own_line="Eine Meldung der Nachrichtenagentur, die wir unverändert übernehmen.",
    own_sentence="Die Redaktion hat die beiden Meldungen der Agenturen für Sie zusammengefasst.",
    dateline_prefix="BERLIN (dpa) - ",
    dateline_suffix="",
    agency="dpa",
)

ES = Language(
    code="es",
    wire=(
        "El Gobierno aprobó este martes en el Consejo de Ministros un plan de ayudas de 1.200 "
        "millones de euros para los agricultores afectados por la sequía en el sur del país.\n\n"
        "El ministro de Agricultura explicó en rueda de prensa que las ayudas directas llegarán "
        "a las explotaciones antes del verano y que tendrán prioridad los pequeños productores.\n\n"
        "Las organizaciones agrarias valoraron la medida, aunque consideraron que la cuantía es "
        "insuficiente para compensar las pérdidas de una campaña que califican de histórica.\n\n"
        "El plan incluye también rebajas fiscales y una línea de préstamos con aval público para "
        "facilitar el acceso a la financiación."
    ),
    other_wire=(
        "Un incendio forestal declarado el domingo en la sierra de Gredos obligó a desalojar a "
        "cerca de 600 vecinos de tres municipios de la provincia de Ávila.\n\n"
        "Más de 200 efectivos, apoyados por diez medios aéreos, trabajaban por la tarde para "
        "frenar el avance de las llamas, avivadas por el fuerte viento y el calor.\n\n"
        "La Junta de Castilla y León elevó el nivel de peligrosidad del incendio y pidió a la "
        "población que siga en todo momento las indicaciones de los servicios de emergencia."
    ),
    unrelated=(
        "La Comisión Europea propuso este miércoles flexibilizar las normas de la política "
        "agraria común para reducir la carga administrativa que soportan los agricultores.\n\n"
        "Según Bruselas, la reforma permitirá a los pequeños productores quedar exentos de "
        "algunos controles y recibir las ayudas de la Unión con mayor rapidez.\n\n"
        "Las organizaciones agrarias españolas acogieron con cautela el anuncio y reclamaron más "
        "fondos para hacer frente a la sequía y al aumento de los costes de producción."
    ),
    own_line="Reproducimos a continuación una noticia de la agencia sin cambios.",
    own_sentence="La redacción ha reunido en esta página las dos informaciones de las agencias.",
    dateline_prefix="MADRID (EFE) - ",
    dateline_suffix="",
    agency="EFE",
)

FR = Language(
    code="fr",
    wire=(
        "Le Parlement a adopté définitivement jeudi le projet de loi sur la simplification "
        "administrative des entreprises, au terme de plusieurs mois de débats parfois houleux.\n\n"
        "Le texte prévoit notamment la suppression de nombreux formulaires, l'allègement des "
        "obligations déclaratives des petites entreprises et la généralisation des démarches en "
        "ligne.\n\n"
        "Le ministre de l'Économie a salué une étape importante pour les entrepreneurs, tandis "
        "que plusieurs syndicats ont dénoncé un affaiblissement des protections des salariés.\n\n"
        "Le Conseil constitutionnel devrait être saisi par les députés de l'opposition dans les "
        "prochains jours, selon un responsable du groupe."
    ),
    other_wire=(
        "Une violente tempête a traversé dans la nuit de dimanche à lundi le nord-ouest de la "
        "France, privant d'électricité plus de 150.000 foyers en Bretagne et en Normandie.\n\n"
        "Des rafales de plus de 130 kilomètres par heure ont été enregistrées sur le littoral, "
        "selon Météo-France, qui avait placé quatre départements en vigilance orange.\n\n"
        "Les pompiers sont intervenus à plusieurs centaines de reprises pour des chutes d'arbres "
        "et des toitures endommagées, mais aucune victime n'était à déplorer lundi matin."
    ),
    unrelated=(
        "Le gouvernement a présenté mercredi en Conseil des ministres un nouveau plan de soutien "
        "aux petites et moyennes entreprises, confrontées à la hausse des coûts de l'énergie.\n\n"
        "Le ministre de l'Économie a annoncé des prêts garantis par l'État et un report de "
        "certaines échéances fiscales pour les entreprises les plus fragiles.\n\n"
        "Les organisations patronales ont jugé ces mesures utiles mais insuffisantes, et "
        "réclament une baisse durable des impôts de production."
    ),
    own_line="Une dépêche d'agence que notre rédaction reprend sans la modifier.",
    own_sentence="Notre rédaction a rassemblé ici les deux dépêches des agences pour nos lecteurs.",
    dateline_prefix="PARIS (AFP) - ",
    dateline_suffix="",
    agency="AFP",
)

LANGUAGES = {lang.code: lang for lang in (KO, TH, RU, AR, DE, ES, FR)}
CODES = list(LANGUAGES)
RERUNS = ("verbatim", "trimmed", "dateline", "mixed")


def _paragraphs(text: str, count: int) -> str:
    return "\n\n".join(text.split("\n\n")[:count])


def texts_of(lang: Language) -> dict[str, str]:
    """The folder of one language: both wires, the four re-runs and the unrelated story."""
    return {
        "wire": lang.wire,
        "other_wire": lang.other_wire,
        "verbatim": lang.own_line + "\n\n" + lang.wire,
        "trimmed": _paragraphs(lang.wire, 2),
        "dateline": lang.dateline_prefix + lang.wire + lang.dateline_suffix,
        "mixed": "\n\n".join(
            [_paragraphs(lang.wire, 2), _paragraphs(lang.other_wire, 2), lang.own_sentence]
        ),
        "unrelated": lang.unrelated,
    }


@dataclass
class Scan:
    texts: dict[str, str]  # by document id
    records: dict[str, dict]  # documents.jsonl, by file stem
    passages: list[dict]
    pairs: list[dict]  # pairs.csv rows

    def linked(self) -> set[frozenset[str]]:
        """The pairs of file stems whose relation is not ``none``."""
        return {
            frozenset((_stem(row["a"]), _stem(row["b"])))
            for row in self.pairs
            if row["relation"] != "none"
        }


def _stem(doc_id: str) -> str:
    return doc_id.rsplit("/", 1)[-1].removesuffix(".txt")


def _scan(folder: Path, texts: dict[str, str]) -> Scan:
    folder.mkdir()
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    out = folder.with_name(folder.name + "-out")
    result = CliRunner().invoke(app, ["scan", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    records = {}
    by_id = {}
    for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        records[_stem(record["id"])] = record
        by_id[record["id"]] = texts[_stem(record["id"])]
    passages = [
        json.loads(x) for x in (out / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    with (out / "pairs.csv").open(encoding="utf-8", newline="") as handle:
        pairs = list(csv.DictReader(handle))
    return Scan(by_id, records, passages, pairs)


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    """One scan per language, made the first time a test asks for it."""
    done: dict[str, Scan] = {}

    def scan(code: str) -> Scan:
        if code not in done:
            folder = tmp_path_factory.mktemp("languages") / code
            done[code] = _scan(folder, texts_of(LANGUAGES[code]))
        return done[code]

    return scan


def test_the_fixtures_have_the_shape_the_tests_rely_on():
    for lang in LANGUAGES.values():
        for story in (lang.wire, lang.other_wire, lang.unrelated):
            paragraphs = story.split("\n\n")
            assert 3 <= len(paragraphs) <= 4
            assert all(p.strip() == p and "\n" not in p for p in paragraphs)
            low, high = (400, 800) if lang.code == "th" else (350, 700)
            assert low <= len(story) <= high, (lang.code, len(story))
        # The wire's paragraphs are in three or more files of the folder: a line under 20 words
        # repeated that often is taken for the folder's page furniture (clean.py,
        # _mark_repeated_lines), so each has 20 tokens or more.
        assert all(len(tokens(p)) >= 20 for p in lang.wire.split("\n\n")), lang.code
        # Every line but Thai's ends a sentence (a line that does not is a "fragment").
        for text in (lang.wire, lang.other_wire, lang.unrelated, lang.own_line, lang.own_sentence):
            for line in text.split("\n\n"):
                assert lang.code == "th" or line.endswith((".", "؟")), line


@pytest.mark.parametrize("code", CODES)
def test_the_language_of_each_text_is_read(scans, code):
    records = scans(code).records
    assert records["wire"]["language"] == code
    assert {name: r["language"] for name, r in records.items()} == dict.fromkeys(records, code)


@pytest.mark.parametrize("code", CODES)
def test_the_cleaning_keeps_the_agency_copy(scans, code):
    records = scans(code).records
    for name in ("wire", "other_wire", "trimmed", "unrelated"):
        assert records[name]["removed"] == [], (name, records[name]["removed"])
    # The re-running outlet's own line and the credit may go, the copy with them may not.
    for name in ("verbatim", "dateline", "mixed"):
        text = records[name]["text"]
        removed = "".join(text[a:b] for a, b in records[name]["removed"])
        for paragraph in LANGUAGES[code].wire.split("\n\n")[:2]:
            assert paragraph not in removed, (name, records[name]["removed"])


LINKS = [(code, rerun, "wire") for code in CODES for rerun in RERUNS] + [
    (code, "mixed", "other_wire") for code in CODES
]


@pytest.mark.parametrize(("code", "rerun", "source"), LINKS)
def test_every_rerun_is_linked_to_the_wire_it_came_from(scans, code, rerun, source):
    assert frozenset((source, rerun)) in scans(code).linked()


@pytest.mark.parametrize("code", CODES)
def test_the_unrelated_story_is_linked_to_nothing(scans, code):
    scan = scans(code)
    assert not any("unrelated" in pair for pair in scan.linked())
    assert not any("unrelated" in (_stem(p["a"]), _stem(p["b"])) for p in scan.passages)
    assert frozenset(("wire", "other_wire")) not in scan.linked()


@pytest.mark.parametrize("code", CODES)
def test_passage_offsets_are_exact(scans, code):
    scan = scans(code)
    assert scan.passages
    for p in scan.passages:
        a = scan.texts[p["a"]][p["a_start"] : p["a_end"]]
        b = scan.texts[p["b"]][p["b_start"] : p["b_end"]]
        assert a.strip() and b.strip(), p
        if p["kind"] == "verbatim":
            assert " ".join(a.split()) == " ".join(b.split()), p
    # The trimmed re-run's first paragraph (to its last word: a passage ends at a token) is
    # within a verbatim passage it shares with the wire copy.
    first = " ".join(LANGUAGES[code].wire.split("\n\n")[0].split()).rstrip(".")
    assert any(
        first in " ".join(scan.texts[p[side]][p[f"{side}_start"] : p[f"{side}_end"]].split())
        for p in scan.passages
        if p["kind"] == "verbatim" and {_stem(p["a"]), _stem(p["b"])} == {"trimmed", "wire"}
        for side in ("a", "b")
    )


@pytest.mark.parametrize("code", [c for c in CODES if LANGUAGES[c].agency is not None])
def test_the_dateline_rerun_is_credited_to_the_agency(scans, code):
    records = scans(code).records
    assert LANGUAGES[code].agency in records["dateline"]["credits"]
    assert records["wire"]["credits"] == []


@pytest.mark.parametrize(
    ("dateline", "agency"),
    [
        ("МОСКВА, 18 марта. /ТАСС/. ", "TASS"),
        ("القاهرة (رويترز) - ", "Reuters"),
        ("بيروت (أ ف ب) - ", "AFP"),
    ],
)
def test_datelines_in_russian_and_arabic_name_the_agency(dateline, agency):
    text = dateline + RU.wire
    assert agency in [credit.agency for credit in find_credits(text)]


def test_a_folder_of_all_languages_links_no_pair_across_languages(tmp_path):
    texts = {}
    for code, lang in LANGUAGES.items():
        texts[f"{code}_wire"] = lang.wire
        texts[f"{code}_verbatim"] = lang.own_line + "\n\n" + lang.wire
    scan = _scan(tmp_path / "all", texts)
    assert {name: r["language"] for name, r in scan.records.items()} == {
        name: name.split("_")[0] for name in texts
    }
    linked = [tuple(pair) for pair in scan.linked()]
    across = [pair for pair in linked if len({name.split("_")[0] for name in pair}) > 1]
    assert across == []
    assert all(
        len({_stem(p[side]).split("_")[0] for side in ("a", "b")}) == 1 for p in scan.passages
    )
    # Each language's re-run is still found.
    assert set(scan.linked()) == {frozenset((f"{c}_wire", f"{c}_verbatim")) for c in CODES}
