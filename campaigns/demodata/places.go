package demodata

// Places are read-only data: towns with real postal codes, real-looking streets, and Jack's Mood's
// shops. City names are written the way Posti prints them on a letter: in upper case, in the
// Swedish form for Swedish speakers in a bilingual municipality (VASA, BORGÅ, JAKOBSTAD).

// street is a street name in Finnish and, where the municipality is bilingual, in Swedish.
// In Mariehamn, which is Swedish only, both are the Swedish name.
type street struct{ fi, sv string }

// town is a post town. The weights are its residents, in hundreds, by the language they would
// choose for their messages: Finnish, Swedish, and English (mostly residents of foreign origin).
// Members of each language are spread over the towns in these proportions, which puts Swedish
// speakers where they live: the capital area, Ostrobothnia, Åland and the southern coast.
type town struct {
	city, citySv string   // Posti's post-town names; citySv is "" where the municipality is Finnish only
	codes        []string // postal codes of the town, each with the town's name in Posti's register
	central      []street // streets of the centre; nil means genericCentral
	fi, sv, en   int
	store        int // index in stores of the shop nearest to the town
}

// Indexes into stores.
const (
	storeKamppi = iota
	storeItis
	storeSello
	storeJumbo
	storeTampere
	storeTurku
	storeOulu
	storeJyvaskyla
	storeKuopio
	storeVaasa
	storeLahti
	storeOnline
)

// stores are Jack's Mood's shops and the web shop; the order follows the constants above.
var stores = []string{
	"Jack's Mood Kamppi",
	"Jack's Mood Itis",
	"Jack's Mood Sello",
	"Jack's Mood Jumbo",
	"Jack's Mood Tampere Koskikeskus",
	"Jack's Mood Turku Hansa",
	"Jack's Mood Oulu Valkea",
	"Jack's Mood Jyväskylä Forum",
	"Jack's Mood Kuopio Matkus",
	"Jack's Mood Vaasa Rewell Center",
	"Jack's Mood Lahti Trio",
	"Jack's Mood Verkkokauppa",
}

// genericCentral are town-centre streets found in most Finnish towns.
var genericCentral = []street{
	{"Kauppakatu", "Handelsgatan"}, {"Koulukatu", "Skolgatan"}, {"Puistokatu", "Parkgatan"},
	{"Satamakatu", "Hamngatan"}, {"Kirkkokatu", "Kyrkogatan"}, {"Asemakatu", "Stationsgatan"},
	{"Rautatienkatu", "Järnvägsgatan"}, {"Torikatu", "Torggatan"}, {"Isokatu", "Storgatan"},
	{"Rantakatu", "Strandgatan"}, {"Hallituskatu", "Regeringsgatan"}, {"Läntinen Pitkäkatu", "Västra Långgatan"},
}

// genericSuburban are the streets of residential areas everywhere.
var genericSuburban = []street{
	{"Rantatie", "Strandvägen"}, {"Koivutie", "Björkvägen"}, {"Kirkkotie", "Kyrkvägen"},
	{"Koulutie", "Skolvägen"}, {"Myllytie", "Kvarnvägen"}, {"Mäntytie", "Tallvägen"},
	{"Kuusitie", "Granvägen"}, {"Pihlajatie", "Rönnvägen"}, {"Asematie", "Stationsvägen"},
	{"Puistotie", "Parkvägen"}, {"Metsätie", "Skogsvägen"}, {"Peltotie", "Åkervägen"},
	{"Niittytie", "Ängsvägen"}, {"Kalliotie", "Bergvägen"}, {"Vaahteratie", "Lönnvägen"},
	{"Koivukuja", "Björkgränden"}, {"Kotikuja", "Hemgränden"}, {"Harjutie", "Åsvägen"},
	{"Mäkitie", "Backvägen"}, {"Lehtotie", "Lundvägen"}, {"Kielotie", "Liljekonvaljvägen"},
	{"Sepäntie", "Smedsvägen"}, {"Tehtaankatu", "Fabriksgatan"}, {"Pajatie", "Smedjevägen"},
}

// finnishOnly makes street pairs of Finnish names for a Finnish-speaking town.
func finnishOnly(names ...string) []street {
	s := make([]street, len(names))
	for i, n := range names {
		s[i] = street{n, n}
	}
	return s
}

// abroadAddresses are the addresses of members living in Sweden (Country "SE"); Swedish postal codes are
// written "NNN NN".
var abroadAddresses = []struct{ street, code, city string }{
	{"Sveavägen", "113 51", "STOCKHOLM"},
	{"Odengatan", "113 51", "STOCKHOLM"},
	{"Drottninggatan", "111 51", "STOCKHOLM"},
	{"Götgatan", "116 46", "STOCKHOLM"},
	{"Kungsgatan", "411 19", "GÖTEBORG"},
	{"Södra Förstadsgatan", "211 43", "MALMÖ"},
	{"Storgatan", "903 26", "UMEÅ"},
}

// towns are the post towns members live in.
func towns() []town {
	return []town{
		{city: "HELSINKI", citySv: "HELSINGFORS", store: storeKamppi,
			codes: []string{"00100", "00120", "00130", "00140", "00150", "00160", "00170", "00180", "00200", "00250",
				"00260", "00270", "00280", "00300", "00310", "00320", "00330", "00350", "00400", "00420",
				"00500", "00510", "00520", "00530", "00540", "00550", "00560", "00570", "00600", "00610",
				"00620", "00630", "00640", "00650", "00660", "00670", "00680", "00700", "00710", "00720",
				"00730", "00740", "00750", "00760", "00770", "00780", "00790", "00800", "00810", "00820",
				"00830", "00840", "00850", "00870", "00880", "00900", "00910", "00920", "00930", "00940",
				"00950", "00960", "00970", "00980", "00990"},
			central: []street{{"Mannerheimintie", "Mannerheimvägen"}, {"Aleksanterinkatu", "Alexandersgatan"},
				{"Fredrikinkatu", "Fredriksgatan"}, {"Runeberginkatu", "Runebergsgatan"}, {"Hämeentie", "Tavastvägen"},
				{"Mechelininkatu", "Mechelingatan"}, {"Helsinginkatu", "Helsingegatan"}, {"Sturenkatu", "Sturegatan"},
				{"Albertinkatu", "Albertsgatan"}, {"Topeliuksenkatu", "Topeliusgatan"}, {"Porthaninkatu", "Porthansgatan"},
				{"Itäinen Papinkatu", "Östra Prästgatan"}, {"Lauttasaarentie", "Drumsövägen"}, {"Kaarlenkatu", "Karlsgatan"}},
			fi: 5180, sv: 360, en: 1100},
		{city: "ESPOO", citySv: "ESBO", store: storeSello,
			codes: []string{"02100", "02110", "02120", "02130", "02140", "02150", "02160", "02170", "02180", "02200",
				"02210", "02230", "02240", "02250", "02260", "02270", "02280", "02320", "02330", "02340",
				"02360", "02600", "02610", "02620", "02630", "02650", "02660", "02680", "02710", "02720",
				"02730", "02740", "02750", "02760", "02770", "02780", "02940", "02970"},
			central: []street{{"Otakaari", "Otsvängen"}, {"Kauppamiehentie", "Köpmansvägen"}, {"Piispansilta", "Biskopsbron"},
				{"Merituulentie", "Havsvindsvägen"}, {"Espoonkatu", "Esbogatan"}, {"Kirkkojärventie", "Kyrkträskvägen"}},
			fi: 2150, sv: 200, en: 700},
		{city: "VANTAA", citySv: "VANDA", store: storeJumbo,
			codes: []string{"01300", "01350", "01360", "01370", "01380", "01390", "01400", "01450", "01480", "01490",
				"01600", "01610", "01620", "01630", "01640", "01650", "01660", "01670", "01700", "01710",
				"01720", "01730", "01740", "01750", "01760"},
			central: []street{{"Tikkurilantie", "Dickursvägen"}, {"Asematie", "Stationsvägen"},
				{"Myyrmäenraitti", "Myrbackastråket"}, {"Martinlaaksontie", "Mårtensdalsvägen"}, {"Kielotie", "Liljekonvaljvägen"}},
			fi: 1760, sv: 58, en: 600},
		{city: "KAUNIAINEN", citySv: "GRANKULLA", store: storeSello, codes: []string{"02700"},
			central: []street{{"Kauniaistentie", "Grankullavägen"}, {"Asematie", "Stationsvägen"}, {"Tunnelitie", "Tunnelvägen"}},
			fi:      58, sv: 34, en: 8},
		{city: "KIRKKONUMMI", citySv: "KYRKSLÄTT", store: storeSello, codes: []string{"02400"},
			fi: 320, sv: 60, en: 30},
		{city: "TAMPERE", store: storeTampere,
			codes: []string{"33100", "33180", "33200", "33210", "33230", "33240", "33250", "33270", "33300", "33310",
				"33400", "33500", "33520", "33540", "33560", "33580", "33700", "33710", "33720", "33730", "33800", "33820", "33900"},
			central: finnishOnly("Hämeenkatu", "Hatanpään valtatie", "Satakunnankatu", "Pirkankatu", "Insinöörinkatu",
				"Itsenäisyydenkatu", "Sammonkatu", "Kalevantie", "Tammelan puistokatu", "Näsilinnankatu"),
			fi: 2280, sv: 12, en: 200},
		{city: "TURKU", citySv: "ÅBO", store: storeTurku,
			codes: []string{"20100", "20200", "20210", "20240", "20250", "20300", "20320", "20360", "20380", "20400",
				"20500", "20520", "20540", "20610", "20700", "20720", "20740", "20750", "20760", "20810", "20880", "20900"},
			central: []street{{"Aurakatu", "Auragatan"}, {"Yliopistonkatu", "Universitetsgatan"}, {"Eerikinkatu", "Eriksgatan"},
				{"Linnankatu", "Slottsgatan"}, {"Humalistonkatu", "Humlegårdsgatan"}, {"Hämeenkatu", "Tavastgatan"},
				{"Puutarhakatu", "Trädgårdsgatan"}, {"Kaskenkatu", "Kaskisgatan"}, {"Uudenmaankatu", "Nylandsgatan"},
				{"Itäinen Rantakatu", "Östra Strandgatan"}},
			fi: 1650, sv: 100, en: 250},
		{city: "OULU", store: storeOulu,
			codes: []string{"90100", "90120", "90130", "90140", "90150", "90220", "90230", "90240", "90250", "90500",
				"90510", "90520", "90530", "90540", "90550", "90560", "90570", "90580", "90650"},
			central: finnishOnly("Isokatu", "Kirkkokatu", "Hallituskatu", "Kajaaninkatu", "Torikatu",
				"Pakkahuoneenkatu", "Kasarmintie", "Albertinkatu"),
			fi: 2030, sv: 4, en: 90},
		{city: "JYVÄSKYLÄ", store: storeJyvaskyla,
			codes: []string{"40100", "40200", "40250", "40270", "40320", "40340", "40400", "40500", "40520", "40530",
				"40600", "40620", "40630", "40640", "40700"},
			central: finnishOnly("Kauppakatu", "Väinönkatu", "Kilpisenkatu", "Vapaudenkatu", "Yliopistonkatu",
				"Puistokatu", "Kalevankatu", "Sepänkatu"),
			fi: 1390, sv: 4, en: 80},
		{city: "KUOPIO", store: storeKuopio,
			codes: []string{"70100", "70110", "70200", "70300", "70340", "70420", "70460", "70500", "70600", "70620",
				"70780", "70800", "70820", "70840"},
			central: finnishOnly("Puijonkatu", "Kauppakatu", "Tulliportinkatu", "Minna Canthin katu",
				"Haapaniemenkatu", "Vuorikatu", "Snellmaninkatu"),
			fi: 1190, sv: 3, en: 50},
		{city: "LAHTI", store: storeLahti,
			codes: []string{"15100", "15110", "15140", "15150", "15160", "15170", "15200", "15210", "15240", "15300",
				"15500", "15610", "15700", "15850", "15900"},
			central: finnishOnly("Aleksanterinkatu", "Rautatienkatu", "Vesijärvenkatu", "Hämeenkatu", "Mariankatu", "Saimaankatu"),
			fi:      1120, sv: 5, en: 90},
		{city: "PORI", store: storeTurku,
			codes:   []string{"28100", "28120", "28130", "28190", "28200", "28220", "28300", "28400", "28500", "28600"},
			central: finnishOnly("Yrjönkatu", "Antinkatu", "Itsenäisyydenkatu", "Eteläranta", "Isolinnankatu", "Valtakatu"),
			fi:      790, sv: 5, en: 40},
		{city: "JOENSUU", store: storeKuopio,
			codes:   []string{"80100", "80110", "80130", "80140", "80160", "80200", "80220", "80230"},
			central: finnishOnly("Torikatu", "Siltakatu", "Kauppakatu", "Koskikatu", "Rantakatu", "Kirkkokatu"),
			fi:      730, sv: 2, en: 40},
		{city: "LAPPEENRANTA", store: storeLahti,
			codes:   []string{"53100", "53130", "53200", "53300", "53500", "53550", "53600", "53810", "53850", "53900"},
			central: finnishOnly("Valtakatu", "Kauppakatu", "Koulukatu", "Raatimiehenkatu", "Brahenkatu"),
			fi:      680, sv: 2, en: 50},
		{city: "ROVANIEMI", store: storeOulu,
			codes:   []string{"96100", "96200", "96300", "96400", "96440", "96460", "96500", "96900"},
			central: finnishOnly("Koskikatu", "Rovakatu", "Valtakatu", "Pohjolankatu", "Maakuntakatu", "Korkalonkatu"),
			fi:      620, sv: 2, en: 25},
		{city: "HÄMEENLINNA", store: storeTampere, codes: []string{"13100", "13130", "13200", "13210", "13500"},
			fi: 650, sv: 3, en: 30},
		{city: "SEINÄJOKI", store: storeVaasa, codes: []string{"60100", "60200", "60320"},
			fi: 630, sv: 2, en: 20},
		{city: "KOUVOLA", store: storeLahti, codes: []string{"45100", "45130", "45200", "45360"},
			fi: 770, sv: 3, en: 30},
		{city: "KOTKA", store: storeLahti, codes: []string{"48100", "48200", "48400", "48600"},
			fi: 460, sv: 5, en: 50},
		{city: "MIKKELI", store: storeKuopio, codes: []string{"50100", "50130", "50170"},
			fi: 500, sv: 2, en: 15},
		{city: "SALO", store: storeTurku, codes: []string{"24100", "24240", "24260"},
			fi: 490, sv: 3, en: 20},
		{city: "HYVINKÄÄ", store: storeJumbo, codes: []string{"05800", "05820", "05830", "05880"},
			fi: 450, sv: 3, en: 20},
		{city: "JÄRVENPÄÄ", store: storeJumbo, codes: []string{"04400", "04410", "04430", "04440"},
			fi: 420, sv: 5, en: 20},
		{city: "KERAVA", store: storeJumbo, codes: []string{"04200", "04220", "04230", "04250", "04260"},
			fi: 340, sv: 5, en: 30},
		{city: "TUUSULA", store: storeJumbo, codes: []string{"04300", "04310"},
			fi: 370, sv: 7, en: 15},
		{city: "NURMIJÄRVI", store: storeJumbo, codes: []string{"01900"},
			fi: 420, sv: 6, en: 15},
		{city: "RAUMA", store: storeTurku, codes: []string{"26100", "26200"},
			fi: 370, sv: 2, en: 20},
		{city: "KAJAANI", store: storeOulu, codes: []string{"87100", "87200"},
			fi: 350, sv: 1, en: 10},
		{city: "SAVONLINNA", store: storeKuopio, codes: []string{"57100", "57200", "57230"},
			fi: 310, sv: 1, en: 7},
		{city: "RIIHIMÄKI", store: storeJumbo, codes: []string{"11100", "11120", "11130"},
			fi: 280, sv: 1, en: 10},
		{city: "IMATRA", store: storeLahti, codes: []string{"55100", "55120"},
			fi: 240, sv: 1, en: 10},
		{city: "IISALMI", store: storeKuopio, codes: []string{"74100", "74120"},
			fi: 200, sv: 1, en: 5},
		{city: "KEMI", store: storeOulu, codes: []string{"94100", "94200"},
			fi: 190, sv: 1, en: 5},
		{city: "TORNIO", store: storeOulu, codes: []string{"95400", "95420"},
			fi: 200, sv: 1, en: 10},
		{city: "LOHJA", citySv: "LOJO", store: storeSello, codes: []string{"08100", "08150", "08200"},
			central: []street{{"Karstuntie", "Karstuvägen"}, {"Laurinkatu", "Lauritsgatan"}, {"Kauppakatu", "Handelsgatan"}},
			fi:      420, sv: 15, en: 20},
		{city: "KOKKOLA", citySv: "KARLEBY", store: storeVaasa, codes: []string{"67100", "67200", "67300", "67600", "67700"},
			central: []street{{"Isokatu", "Storgatan"}, {"Rantakatu", "Strandgatan"}, {"Torikatu", "Torggatan"},
				{"Pitkänsillankatu", "Långbrogatan"}},
			fi: 400, sv: 60, en: 20},
		// The Swedish-speaking and strongly bilingual towns.
		{city: "VAASA", citySv: "VASA", store: storeVaasa,
			codes: []string{"65100", "65170", "65200", "65230", "65280", "65300", "65320", "65350", "65370", "65380"},
			central: []street{{"Hovioikeudenpuistikko", "Hovrättsesplanaden"}, {"Kauppapuistikko", "Handelsesplanaden"},
				{"Kirkkopuistikko", "Kyrkoesplanaden"}, {"Rauhankatu", "Fredsgatan"}, {"Koulukatu", "Skolhusgatan"},
				{"Pitkäkatu", "Långgatan"}, {"Raastuvankatu", "Rådhusgatan"}},
			fi: 460, sv: 150, en: 70},
		{city: "PORVOO", citySv: "BORGÅ", store: storeItis,
			codes: []string{"06100", "06150", "06400", "06500", "06650"},
			central: []street{{"Mannerheiminkatu", "Mannerheimgatan"}, {"Runeberginkatu", "Runebergsgatan"},
				{"Jokikatu", "Ågatan"}, {"Välikatu", "Mellangatan"}, {"Aleksanterinkatu", "Alexandersgatan"},
				{"Rauhankatu", "Fredsgatan"}, {"Piispankatu", "Biskopsgatan"}},
			fi: 340, sv: 140, en: 30},
		{city: "PIETARSAARI", citySv: "JAKOBSTAD", store: storeVaasa, codes: []string{"68600", "68620", "68660"},
			central: []street{{"Kauppiaankatu", "Köpmansgatan"}, {"Isokatu", "Storgatan"}, {"Kanavaesplanadi", "Kanalesplanaden"},
				{"Alholmintie", "Alholmsvägen"}, {"Raatihuoneenkatu", "Rådhusgatan"}},
			fi: 75, sv: 105, en: 10},
		{city: "MARIEHAMN", citySv: "MARIEHAMN", store: storeOnline,
			codes: []string{"22100", "22120", "22140", "22150", "22160"},
			central: []street{{"Torggatan", "Torggatan"}, {"Storagatan", "Storagatan"}, {"Norra Esplanadgatan", "Norra Esplanadgatan"},
				{"Ålandsvägen", "Ålandsvägen"}, {"Skarpansvägen", "Skarpansvägen"}, {"Strandgatan", "Strandgatan"},
				{"Nygatan", "Nygatan"}, {"Köpmansgatan", "Köpmansgatan"}},
			fi: 7, sv: 100, en: 10},
		{city: "TAMMISAARI", citySv: "EKENÄS", store: storeSello, codes: []string{"10600"},
			fi: 45, sv: 90, en: 5},
		{city: "KARJAA", citySv: "KARIS", store: storeSello, codes: []string{"10300"},
			fi: 37, sv: 50, en: 3},
		{city: "PARAINEN", citySv: "PARGAS", store: storeTurku, codes: []string{"21600"},
			fi: 60, sv: 85, en: 5},
		{city: "LOVIISA", citySv: "LOVISA", store: storeItis, codes: []string{"07900"},
			central: []street{{"Mannerheiminkatu", "Mannerheimgatan"}, {"Aleksanterinkatu", "Alexandersgatan"},
				{"Sepänkatu", "Smedsgatan"}},
			fi: 80, sv: 60, en: 5},
		{city: "HANKO", citySv: "HANGÖ", store: storeSello, codes: []string{"10900"},
			central: []street{{"Esplanadi", "Esplanaden"}, {"Bulevardi", "Boulevarden"}, {"Vuorikatu", "Berggatan"}},
			fi:      42, sv: 35, en: 3},
		{city: "KRISTIINANKAUPUNKI", citySv: "KRISTINESTAD", store: storeVaasa, codes: []string{"64100"},
			central: []street{{"Rantakatu", "Strandgatan"}, {"Kirkkokatu", "Kyrkogatan"},
				{"Läntinen Pitkäkatu", "Västra Långgatan"}, {"Itäinen Pitkäkatu", "Östra Långgatan"},
				{"Raatihuoneenkatu", "Rådhusgatan"}},
			fi: 25, sv: 36, en: 2},
		{city: "UUSIKAARLEPYY", citySv: "NYKARLEBY", store: storeVaasa, codes: []string{"66900"},
			central: []street{{"Topeliuksenesplanadi", "Topeliusesplanaden"}, {"Isokatu", "Storgatan"}},
			fi:      7, sv: 65, en: 3},
	}
}
