"""Product words of French, Spanish, German, Italian and Portuguese, and the English word they mean.

Catalogue titles are written in English; a customer writes "colliers", "Halskette", "collana".
Each row is `english: french | spanish | german | italian | portuguese`, words in their
singular form and as `normal()` leaves them (no accents, lower case); a phrase may have
several words; a long row goes on, indented, on the next line. Plurals are found by the matcher (app.inbox.reading.forms), not listed here.
"""
from __future__ import annotations

ROWS = """
necklace: collier, sautoir | collar, gargantilla | halskette, kette, collier | collana, collanina | colar, gargantilha
chain: chaine, chainette | cadena, cadenita | kette, kettchen | catena, catenina | corrente, correntinha, cadeia
bracelet: bracelet, gourmette, jonc | pulsera, brazalete, esclava | armband, armreif | bracciale, braccialetto | pulseira, bracelete
anklet: chaine de cheville, bracelet de cheville | tobillera, pulsera de tobillo | fusskette, fusskettchen | cavigliera | tornozeleira
earring: boucle d oreille, boucle, oreille | pendiente, arete, zarcillo | ohrring, ohrstecker | orecchino | brinco
ring: bague, anneau | anillo, sortija | ring, fingerring | anello | anel
jump ring: anneau de jonction, anneau ouvert, anneau brise | anilla, argolla, anilla abierta | biegering, binderring, spaltring |
    anellino, anellino aperto | argola, argolinha
clasp: fermoir | cierre, broche | verschluss | chiusura, chiusurina | fecho, fecho de colar
lobster clasp: fermoir mousqueton, mousqueton | mosqueton, cierre de langosta | karabinerverschluss, karabiner, hummerverschluss |
    moschettone, chiusura a moschettone | mosquetao, fecho lagosta
carabiner: mousqueton | mosqueton | karabiner | moschettone | mosquetao
hook: crochet | gancho | haken | gancio, gancetto | gancho
ear wire: crochet d oreille, crochet boucle | gancho de pendiente, gancho de arete | ohrhaken |
    monachella, gancio per orecchini | gancho de brinco, anzol
bead: perle, perle intercalaire | cuenta, abalorio, bolita | perle, zwischenperle | perlina, perla | conta, micanga, bolinha
pearl: perle, perle de culture | perla | perle, susswasserperle | perla | perola
charm: breloque, charm | dije, charm, colgante | charm, anhanger | ciondolo, charm | berloque, pingente
pendant: pendentif | colgante, dije | anhanger | pendente, ciondolo | pingente
silver: argent | plata | silber | argento | prata
gold: dore, en or, d or | oro, dorado | gold, golden, vergoldet | oro, dorato | ouro, dourado
gold plated: plaque or | chapado en oro, banado en oro | vergoldet | placcato oro | banhado a ouro, folheado a ouro
plated: plaque | chapado, banado | beschichtet, plattiert | placcato | banhado, folheado
rose gold: or rose | oro rosa | rosegold | oro rosa | ouro rose
sterling silver: argent sterling, argent 925 | plata de ley, plata 925 | sterlingsilber, silber 925 |
    argento sterling, argento 925 | prata de lei, prata 925
stainless steel: acier inoxydable, inox, acier inox | acero inoxidable, acero quirurgico | edelstahl, rostfrei |
    acciaio inossidabile, acciaio inox | aco inoxidavel, aco inox
steel: acier | acero | stahl | acciaio | aco
snake: serpent | serpiente, culebra, vibora | schlange, schlangen | serpente | cobra, serpente
box: boite, venitienne | caja, veneciana | box, venezianer | scatola, veneziana | caixa, veneziana
rolo: rolo, jaseron | rolo, rolo | erbs, erbskette | rolo | elo portugues
cuban: cubaine, gourmette cubaine | cubana, barbada | kubanisch, panzer, panzerkette | cubana, grumetta | cubana, grumet
figaro: figaro | figaro, cartier | figaro | figaro | figaro, cartier
paperclip: trombone | clip, clips | buroklammer, ankerkette | graffetta | clipe, clips
satellite: satellite | satelite | satellit | satellite | satelite
link: maillon, maille | eslabon, malla | glied | maglia | elo
hoop: creole, anneau | aro, argolla | creole, kreole | cerchio, cerchietto | argola
huggie: huggie, petite creole | huggie | huggie | huggie | huggie
freshwater: eau douce | agua dulce | susswasser | acqua dolce | agua doce
drop: goutte, pampille | gota | tropfen | goccia | gota
enamel: email, emaille | esmalte, esmaltado | emaille, emailliert | smalto, smaltato | esmalte
heart: coeur | corazon | herz | cuore | coracao
acrylic: acrylique | acrilico | acryl | acrilico | acrilico
bag: sac | bolso | tasche | borsa | bolsa
purse: sac a main, porte-monnaie | bolso, monedero | handtasche, geldborse | borsetta, borsa | bolsa, carteira
decoration: decoration, deco | decoracion, adorno | dekoration, deko, schmuck | decorazione | decoracao, enfeite
keychain: porte-cle, porte-cles | llavero | schlusselanhanger, schlusselring | portachiavi | chaveiro, porta-chaves
connector: connecteur, intercalaire | conector | verbinder, zwischenstuck | connettore | conector
double: double | doble | doppel, doppelt | doppio | duplo
loop: boucle | lazo, bucle | schlaufe, ose | occhiello, asola | laco, argola
hypoallergenic: hypoallergenique | hipoalergenico | hypoallergen | ipoallergenico | hipoalergenico
component: composant | componente | komponente, bauteil | componente | componente
finding: appret, apprets | fornitura, fornituras | zubehor | minuteria | acessorio
lever back: dormeuse | catalana, cierre catalan | brisur | monachella a leva | tarraxa alavanca
stud: puce, clou d oreille | boton, tope | ohrstecker, stecker | perno, lobo | tarraxa, pino
post: tige | poste, espiga | stift | perno | pino
back: fermoir poussette, poussette | tuerca, cierre | stopper, verschluss | chiusura, farfallina | tarraxa
initial: initiale | inicial | initiale, anfangsbuchstabe | iniziale | inicial
letter: lettre | letra | buchstabe | lettera | letra
zodiac: zodiaque, signe astrologique | zodiaco, signo | sternzeichen, tierkreis | zodiaco, segno zodiacale | zodiaco, signo
coin: medaille, jeton | moneda, medalla | munze, medaille | moneta, medaglia | moeda, medalha
spacer: intercalaire, espaceur | separador, entrepieza | zwischenteil, spacer | distanziatore, distanziale | separador, espacador
crimp: perle a ecraser, perle a sertir | chafa, cierre de aplastar | quetschperle, quetschkugel | schiaccino, coprinodo | esmagador
assortment: assortiment, lot | surtido, variado | sortiment, mischung | assortimento | sortido, sortimento
strap: bandouliere, sangle, anse | correa, asa | riemen, gurt, trageriemen | tracolla, manico | alca
accessory: accessoire | accesorio | zubehor, accessoire | accessorio | acessorio
open: ouvert | abierto | offen | aperto | aberto
making: fabrication, creation | fabricacion, hacer | herstellung, basteln | creazione, realizzazione | fabricacao, fazer
jewelry: bijou, bijoux, bijouterie, joaillerie | joya, bisuteria, joyeria | schmuck | gioiello, bigiotteria | joia, bijuteria
bulk: vrac, en gros | granel, al por mayor | grosspackung, lose | sfuso, all ingrosso | granel, atacado
black: noir | negro | schwarz | nero | preto
white: blanc, blanche | blanco | weiss | bianco | branco
red: rouge | rojo | rot | rosso | vermelho
blue: bleu | azul | blau | blu, azzurro | azul
green: vert | verde | grun | verde | verde
pink: rose | rosa | rosa | rosa | rosa
purple: violet | morado, violeta | lila, violett | viola | roxo
yellow: jaune | amarillo | gelb | giallo | amarelo
small: petit | pequeno | klein | piccolo | pequeno
large: grand | grande | | grande | grande
long: long | largo | lang | lungo | longo
thin: fin | fino | dunn | sottile | fino
thick: epais | grueso | dick | spesso | grosso
bottle: bouteille, flacon | botella, frasco | flasche | bottiglia | garrafa, frasco
glass: verre | vaso, copa | glas | bicchiere | copo
cup: tasse | taza | tasse | tazza | chavena, xicara
mug: mug, tasse | taza | becher, tasse | tazza | caneca
plate: assiette | plato | teller | piatto | prato
bowl: bol | cuenco, bol | schussel, schale | ciotola | tigela
spoon: cuillere | cuchara | loffel | cucchiaio | colher
towel: serviette | toalla | handtuch | asciugamano | toalha
soap: savon | jabon | seife | sapone | sabonete
candle: bougie | vela | kerze | candela | vela
coffee: cafe | cafe | kaffee | caffe | cafe
tea: | | tee | | cha
oil: huile | aceite | ol | olio | oleo
wine: vin | vino | wein | vino | vinho
paper: papier | papel | papier | carta | papel
pen: stylo | boligrafo | stift, kuli | penna | caneta
notebook: cahier, carnet | cuaderno, libreta | heft, notizbuch | quaderno | caderno
envelope: enveloppe | | umschlag | | envelope
label: etiquette | etiqueta | etikett | etichetta | etiqueta
tape: ruban adhesif, scotch | cinta | klebeband | nastro | fita
glove: gant | guante | handschuh | guanto | luva
shirt: chemise | camisa | hemd | camicia | camisa
t-shirt: tee-shirt, t-shirt | camiseta | t-shirt | maglietta | camiseta
sock: chaussette | calcetin | socke | calzino | meia
hat: chapeau | sombrero | hut | cappello | chapeu
cap: casquette | gorra | kappe, mutze | berretto |
battery: batterie | pila, bateria | batterie, akku | pila, batteria | pilha, bateria
cable: cable | cable | kabel | cavo | cabo
lamp: lampe | lampara | lampe | lampada | lampada
screw: vis | tornillo | schraube | vite | parafuso
brush: brosse, pinceau | cepillo, pincel | burste, pinsel | spazzola, pennello | escova, pincel
cream: creme | crema | creme | crema | creme
wire: fil | alambre, hilo | draht | filo | fio
thread: fil | hilo | faden | filo | linha
cord: cordon | cordon | kordel, schnur | cordoncino | cordao
ribbon: ruban | cinta | |  nastro | fita
leather: cuir | cuero, piel | leder | pelle, cuoio | couro
crystal: cristal | cristal | kristall | cristallo | cristal
stone: pierre | piedra | stein | pietra | pedra
wood: bois | madera | holz | legno | madeira
cotton: coton | algodon | baumwolle | cotone | algodao
lavender: lavande | lavanda | lavendel | lavanda | lavanda, alfazema
vanilla: vanille | vainilla | vanille | vaniglia | baunilha
olive: olive | oliva, aceituna | olive | oliva | azeitona, oliva
olive oil: huile d olive | aceite de oliva | olivenol | olio d oliva, olio di oliva | azeite
scented: parfume | perfumado, aromatico | duft, duftend | profumato | perfumado, aromatico
ceramic: ceramique | ceramica | keramik | ceramica | ceramica
lined: ligne, a lignes | rayado, de rayas | liniert | a righe, rigato | pautado, com linhas
ballpoint: stylo bille, bille | boligrafo | kugelschreiber | penna a sfera, biro | esferografica
packing: emballage | embalaje | verpackung, pack | imballaggio | embalagem
shipping: expedition, envoi | envio | versand | spedizione | envio
water: eau | agua | wasser | acqua | agua
bean: grain | grano | bohne | chicco | grao
ground: moulu | molido | gemahlen | macinato | moido
hand: main | mano | hand | mano | mao
tote: cabas, sac cabas | bolsa de tela | tragetasche, stofftasche | shopper | sacola, ecobag
nitrile: nitrile | nitrilo | nitril | nitrile | nitrilo
medium: moyen, moyenne | mediano, mediana | mittel, mittelgross | medio, media | medio, media
black tea: the noir | te negro | schwarztee, schwarzer tee | te nero | cha preto
green tea: the vert | te verde | gruntee, gruner tee | te verde | cha verde
"""


def _parse() -> dict[str, tuple[str, ...]]:
    table: dict[str, set[str]] = {}
    for row in ROWS.strip().replace("|\n    ", "| ").splitlines():
        english, _, rest = row.partition(":")
        for group in rest.split("|"):
            for phrase in group.split(","):
                phrase = phrase.strip()
                if phrase:
                    table.setdefault(phrase, set()).add(english.strip())
    return {k: tuple(sorted(v)) for k, v in table.items()}


TRANSLATIONS: dict[str, tuple[str, ...]] = _parse()
