"""The small words of order messages in English, French, Spanish, German, Italian and Portuguese.

Every word here is written as `normal()` leaves it: lower case, accents removed, ß → ss.
Data only; the rules that use it live beside it.
"""
from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(w.replace("_", " ") for w in text.split())


def _numbers(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.split(","):
        value, names = part.split(":")
        for name in names.split():
            out[name.replace("_", " ")] = int(value)
    return out


# Numbers that are not also everyday words of another of the six languages.
NUMBERS = _numbers(
    "2:two deux dos zwei zwo dois duas,"
    "3:three trois tres drei tre,"
    "4:four quatre cuatro vier quattro quatro,"
    "5:five cinq cinco funf fuenf cinque,"
    "6:six seis sechs,"
    "7:seven siete sieben sette sete,"
    "8:eight huit ocho oito,"
    "9:nine nueve neun nove,"
    "10:ten dix diez zehn dieci dez,"
    "11:eleven onze undici,"
    "12:twelve douze zwolf zwoelf dodici doze,"
    "13:thirteen treize trece dreizehn tredici treze,"
    "14:fourteen quatorze catorce vierzehn quattordici catorze,"
    "15:fifteen quinze quince funfzehn fuenfzehn quindici,"
    "16:sixteen seize dieciseis sechzehn sedici dezesseis dezasseis,"
    "17:seventeen dix-sept diecisiete siebzehn diciassette dezessete dezassete,"
    "18:eighteen dix-huit dieciocho achtzehn diciotto dezoito,"
    "19:nineteen dix-neuf diecinueve neunzehn diciannove dezenove dezanove,"
    "20:twenty vingt veinte zwanzig venti vinte,"
    "25:twenty-five twenty_five vingt-cinq veinticinco funfundzwanzig venticinque vinte_e_cinco,"
    "30:thirty trente treinta dreissig trenta trinta,"
    "40:forty quarante cuarenta vierzig quaranta quarenta,"
    "50:fifty cinquante cincuenta funfzig fuenfzig cinquanta,"
    "60:sixty soixante sesenta sechzig sessanta sessenta,"
    "100:hundred one_hundred a_hundred cien ciento hundert einhundert cento cem,"
    "200:two_hundred deux_cents doscientos zweihundert duecento duzentos,"
    "12:dozen a_dozen one_dozen douzaine une_douzaine docena una_docena dutzend ein_dutzend dozzina una_dozzina"
    " duzia uma_duzia,"
    "6:half_a_dozen demi-douzaine une_demi-douzaine media_docena halbes_dutzend ein_halbes_dutzend mezza_dozzina"
    " meia_duzia,"
    "24:two_dozen deux_douzaines dos_docenas zwei_dutzend due_dozzine duas_duzias,"
    "2:a_couple_of a_couple couple_of a_pair_of pair_of une_paire_de un_par_de un_paio_di um_par_de,"
    "1:einmal 1x,2:zweimal,3:dreimal,4:viermal,5:funfmal"
)
# Numbers that are also ordinary words somewhere ("once", "sept", "due", "neuf", "a"): they count
# only right before the product words or a unit, never on their own.
WEAK_NUMBERS = _numbers("1:one a an un une uno una ein eine einen einem einer eins um uma,2:due,6:sei,7:sept,"
                        "8:otto acht,9:neuf,11:once elf,12:doce,100:cent")
# "some", "a few": the customer wants several but says no number.
VAGUE = _words("some few several a_few quelques plusieurs des algunos algunas unos unas varios varias einige"
               " ein_paar mehrere alcuni alcune qualche diversi parecchi alguns algumas varios uns umas")
APPROX = _words("about around approx approximately roughly circa ca ~ environ vers autour a_peu_pres"
                " unos unas alrededor aproximadamente etwa ungefahr rund zirka circa quasi"
                " cerca aproximadamente uns umas")
QTY_MARK = _words("qty qte qtt quantity quantite cantidad cant menge anzahl stuckzahl quantita qta quantidade qtd")

UNITS = {
    **dict.fromkeys("box boxes caja cajas cajita boite boites carton cartons scatola scatole caixa caixas schachtel"
                    " schachteln karton kartons kiste kisten".split(), "box"),
    **dict.fromkeys("pack packs packet packets package packages paquet paquets paquete paquetes packung packungen"
                    " packchen pack pacco pacchi pacchetto pacchetti confezione confezioni pacote pacotes embalagem embalagens lot lots"
                    " lote lotes bundle bundles".split(), "pack"),
    **dict.fromkeys("bag bags sachet sachets bolsa bolsas bolsita bolsitas beutel tute tuten busta buste bustina bustine sacchetto"
                    " sacchetti saco sacos saquinho saquinhos".split(), "bag"),
    **dict.fromkeys("pc pcs pce pces piece pieces pieza piezas unidad unidades ud uds stuck stueck stk pezzo pezzi"
                    " pz pzs unita peca pecas unidade unidades unit units".split(), "pcs"),
    **dict.fromkeys("pair pairs paire paires pares paar paare paio paia".split(), "pair"),
    **dict.fromkeys("case cases caisse caisses cassa casse".split(), "case"),
    **dict.fromkeys("set sets juego juegos satz satze conjunto conjuntos".split(), "set"),
    **dict.fromkeys("roll rolls rouleau rouleaux rollo rollos rolle rollen rotolo rotoli rolo rolos spool spools"
                    " bobine bobines bobina bobinas spule spulen".split(), "roll"),
}
UNITS.pop("rolo")  # a chain style as well as a Portuguese roll
OF = _words("of de d del des du di da dal dei delle degli della dello do dos das von vom der aus en")
ARTICLES = _words("the le la les l el los las lo der die das den dem des il gli i o a os as these those this that"
                  " ces cette ce cet estos estas este esta esos esas diese dieser diesen dieses questi queste questo"
                  " questa quei quelle esses essas estes este esta your vos votre tes ton ta sus su ihre ihren eure"
                  " euren vostri vostre vostro seus suas my mes mon ma mis mi meine meinen miei mie mio meus minhas"
                  " our nos nuestros nuestras unsere nostri nostre nossos nossas same memes mismos mismas gleichen"
                  " stessi mesmos")
AND = _words("and & + plus et y e und sowie ed also aussi ainsi tambien ademas auch noch anche inoltre tambem alem"
             " as_well")
OR = _words("or ou o oder oppure")
EACH = _words("each chacun chacune cada jeweils je ciascuno ciascuna cada")

# Words that carry no product meaning: greetings, politeness, request verbs, pronouns, prepositions.
FILLER = _words("""
hi hello hey dear morning afternoon evening good team there folks all guys madam sir sirs mr mrs ms
please pls plz kindly thanks thank thx ty cheers regards best kind warm wishes greetings love xx xxx
i i'd id i'm im me my we we'd us our you your it its they them their he she him her his
would could can will shall should may might must do does did have has had am is are was were be been being
like love want wanted wants need needs needed require order ordering ordered send sending sent ship shipping
deliver delivery get give take buy buying purchase reserve book add put make made let know
to for from in on at by with as into onto up out about again also too more another other just only still already
so then now today tomorrow asap soon quickly urgent urgently possible if when please whatever which what
yes no not ok okay sure great perfect lovely nice fine alright right new extra ones same kind type style usual
bonjour salut coucou bonsoir madame monsieur cher chere chers
merci svp stp plait s'il vous te beaucoup cordialement bien bonne journee
je j j'ai j'aimerais nous vous tu il elle on moi me m'envoyer m'en ils elles leur leurs
voudrais voudrions veux voulons aimerais aimerions souhaite souhaiterais souhaitons besoin faut
commander commande commandes envoyer envoyez envoie expedier expediez livrer livrez mettre ajouter reserver prendre
pour par avec sans sur dans chez au aux a en de du des est sont ai avons avez suis etre avoir pouvez pourriez
hola buenos buenas dias tardes noches estimado estimada estimados querido querida senor senora
gracias favor por porfa saludos atentamente un cordial abrazo muchas
yo me mi nosotros nos te usted ustedes vosotros le les lo la se
quisiera quisieramos quiero queremos queria gustaria necesito necesitamos necesitaria hace falta
pedir pido pedido pedimos encargar encargo mandar mandad manden mandame mandeme enviar envien enviad enviame
enviadme reservar anadir poner tomar comprar para con sin sobre en es son soy estoy tengo tenemos puede pueden podeis
podrian podrias podria
hallo guten morgen tag abend liebe lieber sehr geehrte geehrter damen herren moin servus
danke bitte vielen dank gruss grusse grussen freundlichen viele beste herzliche lg mfg vg
ich mir mich wir uns sie ihnen euch du dir
mochte mochten mochte moechte moechten hatte hatten haette gerne gern brauche brauchen benotige benotigen
bestellen bestelle bestellt bestellung schicken schickt schicke senden sendet liefern liefert reservieren nehmen
kaufen fur fuer mit ohne auf in im bei zu zum zur und ist sind bin haben habe konnten koennten konnen koennen bitte
ciao buongiorno buonasera salve gentile gentili egregio cari caro cara
grazie prego favore cortesia saluti cordiali distinti mille
io mi noi ci voi vi lei loro
vorrei vorremmo voglio vogliamo desidero desidererei avrei bisogno serve servono occorre
ordinare ordino ordine mandare mandate mandatemi inviare inviate inviatemi spedire spedite spediteci prenotare
prendere comprare per con senza su in nel nella e sono ho abbiamo potete potreste
ola bom boa dia tarde noite prezado prezada caro cara senhor senhora
obrigado obrigada agradeco cumprimentos abracos atenciosamente
eu nos me mim voces voce lhe
gostaria gostariamos quero queremos queria preciso precisamos necessito
encomendar encomenda pedir pedido mandar mandem enviar enviem envie reservar comprar levar
para com sem sobre em no na e sao sou tenho temos podem poderiam pode
""")
FILLER = frozenset(FILLER | ARTICLES)

# Sentences that ask rather than order.
QUESTION_START = ("how much", "how many", "how long", "what is", "what's", "what are", "do you", "do u", "does it",
                  "can u", "r u", "is it", "is there",
                  "are there", "are you", "when do", "when are", "when will", "where", "which", "can i", "could i",
                  "have you", "is the", "are the", "combien", "est-ce", "est ce", "avez-vous", "avez vous",
                  "etes-vous", "etes vous", "quel", "quelle", "quels", "quelles", "quand", "ou est", "y a-t-il",
                  "cuanto", "cuanta", "cuantos", "cuantas", "cual", "cuales", "cuando", "donde", "teneis", "tienen",
                  "tiene", "hay", "estais", "estan", "que precio", "wie viel", "wieviel", "wie teuer", "was kostet",
                  "was kosten", "haben sie", "habt ihr", "hast du", "gibt es", "wann", "wo ", "welche", "sind sie",
                  "ist der", "ist das", "quanto", "quanta", "quanti", "quante", "avete", "c'e", "ci sono", "quando",
                  "dove", "qual", "quale", "siete", "tem ", "tens", "voces tem", "ha ", "onde", "estao", "qual e")
QUESTION_CUES = ("price", "prices", "pricing", "cost", "costs", "how much", "quote", "opening hours", "open on",
                 "opening times", "are you open", "in stock", "available", "availability", "do you have", "do you sell",
                 "do you ship", "do u ship", "ship to", "delivery time", "how long", "prix", "tarif", "tarifs",
                 "combien", "coute", "coutent",
                 "horaires", "ouvert", "ouverts", "en stock", "disponible", "disponibles", "avez-vous", "avez vous",
                 "precio", "precios", "cuanto", "cuesta", "cuestan", "vale", "horario", "abierto", "abiertos",
                 "teneis", "tienen", "disponibilidad", "preis", "preise", "kostet", "kosten", "wie viel", "wieviel",
                 "offnungszeiten", "oeffnungszeiten", "geoffnet", "auf lager", "vorratig", "lieferbar", "verfugbar",
                 "prezzo", "prezzi", "costa", "costano", "quanto", "orari", "orario", "aperti", "aperto",
                 "disponibili", "avete", "magazzino", "preco", "precos", "custa", "custam", "horario", "aberto",
                 "abertos", "estoque", "stock", "disponiveis")
REQUEST_VERBS = ("send", "ship", "order", "reserve", "book", "put aside", "deliver", "add", "envoyer", "envoyez",
                 "m'envoyer", "expedier", "commander", "reserver", "livrer", "ajouter", "mandar", "mandarme",
                 "mandadme", "mandame", "enviar", "enviarme", "enviadme", "reservar", "pedir", "anadir", "schicken",
                 "senden", "liefern", "bestellen", "reservieren", "zuschicken", "mandare", "mandarmi", "mandatemi",
                 "inviare", "inviarmi", "spedire", "spedirmi", "ordinare", "prenotare", "aggiungere", "enviar",
                 "enviem", "encomendar", "reservar", "separar", "mandem")
CANCEL_CUES = ("cancel", "cancelled", "canceled", "cancellation", "don't send", "do not send", "no longer need",
               "annuler", "annulez", "annulation", "annule", "ne pas envoyer", "n'envoyez pas", "cancelar", "cancelen",
               "cancelad", "anular", "anulen", "anulad", "no envieis", "no envien", "no enviar", "stornieren",
               "storniert", "stornierung", "storno", "abbestellen", "nicht schicken", "nicht senden", "annullare",
               "annullate", "annullamento", "cancellare", "cancellate", "non inviare", "non mandate", "non spedire",
               "cancelem", "cancelamento", "anulem", "nao enviem", "nao mandem", "nao enviar")
COMPLAINT_CUES = ("broken", "damaged", "arrived", "never came", "not received", "haven't received", "didn't receive",
                  "missing", "wrong item", "wrong size", "wrong colour", "wrong color", "refund", "complaint",
                  "faulty", "defective", "disappointed", "casse", "cassee", "abime", "abimee", "endommage", "pas recu",
                  "jamais recu", "manquant", "manque", "rembourse", "remboursement", "reclamation", "decu", "roto",
                  "rota", "rotos", "danado", "danada", "no ha llegado", "no llego", "no he recibido", "falta",
                  "faltan", "equivocado", "reembolso", "reclamacion", "defectuoso", "kaputt", "beschadigt",
                  "nicht angekommen", "nicht erhalten", "fehlt", "fehlen", "falsch", "erstattung", "ruckerstattung",
                  "reklamation", "beschwerde", "defekt", "rotto", "rotta", "rotti", "danneggiato", "danneggiata",
                  "non e arrivato", "non ho ricevuto", "manca", "mancano", "sbagliato", "rimborso", "reclamo",
                  "difettoso", "quebrado", "quebrada", "danificado", "danificada", "nao chegou", "nao recebi",
                  "faltou", "faltam", "errado", "reembolso", "reclamacao", "defeituoso", "estragado")
USUAL_CUES = ("the usual", "my usual", "our usual", "usual order", "same as last time", "same as before",
              "same order as", "same again", "repeat my last order", "repeat the last order", "repeat last order",
              "comme d'habitude", "comme d habitude", "comme la derniere fois", "la meme chose", "meme commande",
              "lo de siempre", "lo mismo que la ultima vez", "lo mismo de siempre", "el pedido de siempre",
              "mismo pedido", "repetir el pedido", "wie immer", "wie ublich", "wie letztes mal", "das gleiche wie",
              "dasselbe wie", "die ubliche", "die gleiche bestellung", "il solito", "come al solito",
              "come l'ultima volta", "come l ultima volta", "lo stesso ordine", "stesso ordine", "o mesmo de sempre",
              "o de sempre", "como da ultima vez", "igual a ultima vez", "a mesma encomenda", "o mesmo pedido",
              "mesmo pedido")
GREETING_ONLY = _words("hi hello hey thanks thank you thx cheers ok okay bonjour merci salut hola gracias buenos dias"
                       " hallo danke ciao grazie buongiorno ola obrigado obrigada good morning great perfect super"
                       " parfait perfecto perfekt perfetto perfeito")
# Reply headers and sign-offs: what follows them is history or a signature.
QUOTE_HEADERS = (r"^\s*on .{0,200}\bwrote:\s*$", r"^\s*le .{0,200}\ba ecrit\s*:\s*$", r"^\s*el .{0,200}\bescribio:\s*$",
                 r"^\s*am .{0,200}\bschrieb.{0,120}:\s*$", r"^\s*il .{0,200}\bha scritto:\s*$",
                 r"^\s*em .{0,200}\bescreveu:\s*$", r"^\s*-{2,}\s*(original message|message d'origine|mensaje original"
                 r"|ursprungliche nachricht|messaggio originale|mensagem original|forwarded message)\s*-{2,}\s*$",
                 r"^\s*(from|de|von|da)\s*:\s*.+$")
SENT_FROM = (r"^\s*(sent from my|sent from|envoye de mon|envoye depuis|enviado desde mi|enviado desde|von meinem"
             r"|gesendet von|inviato da|enviado do meu|enviado de meu|get outlook for)\b.*$")
SIGN_OFFS = _words("regards best cheers thanks thank merci cordialement amicalement bises saludos atentamente"
                   " gracias un_saludo gruss grusse mfg lg danke saluti cordiali distinti grazie atenciosamente"
                   " cumprimentos obrigado obrigada abracos")
# Words that say the customer wants something, even when no number is given.
ORDER_INTENT = REQUEST_VERBS + ("want", "need", "would like", "i'd like", "voudrais", "veux", "besoin", "quisiera",
                                "quiero", "necesito", "queria", "mochte", "moechte", "brauche", "hatte gerne",
                                "vorrei", "voglio", "mi serve", "mi servono", "servono", "quero", "preciso",
                                "gostaria")
# The customer points at something outside the message: a person must look.
OUTSIDE_CUES = ("the rest", "as discussed", "as agreed", "on the phone", "what i asked", "what we said", "like before",
                "etc", "and so on", "comme convenu", "comme discute", "au telephone", "le reste", "como hablamos",
                "lo que te dije", "por telefono", "el resto", "wie besprochen", "wie vereinbart", "am telefon",
                "den rest", "come d'accordo", "come concordato", "al telefono", "il resto", "como combinado",
                "pelo telefone", "o resto")
