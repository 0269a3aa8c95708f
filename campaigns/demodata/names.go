package demodata

// The name tables below are read-only data. Each list is ordered roughly from the most to the least
// common, and New weights the entries by rank, so that Matti and Korhonen come up more often than
// Kyösti and Jääskeläinen, as they do in the population register.

// finnishMale and finnishFemale are first names common among Finnish speakers, old and new.
var finnishMale = []string{
	"Juha", "Timo", "Matti", "Mikko", "Kari", "Antti", "Jari", "Jukka", "Mika", "Markku",
	"Pekka", "Hannu", "Heikki", "Seppo", "Janne", "Ari", "Sami", "Petri", "Ville", "Tuomas",
	"Jussi", "Marko", "Teemu", "Lauri", "Juho", "Pasi", "Jyrki", "Erkki", "Esa", "Tero",
	"Kalle", "Olli", "Risto", "Raimo", "Jouni", "Jaakko", "Aleksi", "Eino", "Onni", "Väinö",
	"Eetu", "Elias", "Leo", "Veeti", "Niilo", "Eemeli", "Aatos", "Toivo", "Veikko", "Yrjö",
	"Urho", "Kyösti", "Sakari", "Lasse", "Keijo", "Tapio", "Ilmari", "Pertti", "Jorma", "Reijo",
	"Veli-Matti", "Juha-Pekka", "Jani", "Joonas", "Arttu", "Henri", "Miro", "Otso", "Topi", "Pentti",
}

var finnishFemale = []string{
	"Anna", "Maria", "Päivi", "Sari", "Minna", "Tiina", "Johanna", "Anne", "Riitta", "Pirjo",
	"Sirpa", "Tuula", "Leena", "Helena", "Marja", "Eeva", "Aino", "Helmi", "Kaarina", "Hanna",
	"Laura", "Elina", "Satu", "Merja", "Heidi", "Jenni", "Katja", "Anu", "Outi", "Jaana",
	"Seija", "Ritva", "Raija", "Sinikka", "Marjatta", "Liisa", "Kristiina", "Emilia", "Sofia", "Aada",
	"Ella", "Venla", "Eevi", "Iida", "Lotta", "Oona", "Pihla", "Siiri", "Kerttu", "Elli",
	"Säde", "Tähti", "Hillevi", "Inkeri", "Mervi", "Tuija", "Noora", "Maija", "Anna-Liisa", "Marja-Leena",
	"Pälvi", "Hertta", "Lyydia", "Kyllikki", "Ilona", "Ronja", "Nelli", "Vilma", "Enni", "Sanni",
}

// finnishSurnames are the commonest surnames in Finland's population register, with some rarer ones
// carrying ä and ö.
var finnishSurnames = []string{
	"Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen", "Koskinen", "Järvinen",
	"Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen",
	"Salo", "Laitinen", "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen", "Ahonen",
	"Ojala", "Leinonen", "Hiltunen", "Kallio", "Miettinen", "Leppänen", "Hirvonen", "Väisänen", "Pitkänen", "Aaltonen",
	"Manninen", "Anttila", "Laaksonen", "Hakala", "Räsänen", "Lehto", "Toivonen", "Mustonen", "Aalto", "Nurmi",
	"Peltonen", "Huttunen", "Seppälä", "Koivisto", "Kettunen", "Rautiainen", "Moilanen", "Vainio", "Honkanen", "Kärkkäinen",
	"Halonen", "Pesonen", "Heiskanen", "Kauppinen", "Rissanen", "Korpela", "Hyvönen", "Partanen", "Tikkanen", "Kemppainen",
	"Häkkinen", "Väänänen", "Pöllänen", "Kähkönen", "Jääskeläinen", "Lämsä", "Kivelä", "Peltola", "Ylönen", "Törmänen",
}

// swedishMale and swedishFemale are first names common among Swedish-speaking Finns.
var swedishMale = []string{
	"Johan", "Mikael", "Anders", "Erik", "Peter", "Thomas", "Fredrik", "Henrik", "Christian", "Patrik",
	"Björn", "Stig", "Lars", "Per", "Mats", "Jan", "Bengt", "Göran", "Håkan", "Ulf",
	"Rolf", "Kim", "Jonas", "Oskar", "Axel", "Emil", "Elias", "William", "Hugo", "Ludvig",
	"Anton", "Max", "Nils", "Gustav", "Filip", "Sebastian", "Rasmus", "Tor", "Sten", "Åke",
}

var swedishFemale = []string{
	"Anna", "Maria", "Kristina", "Johanna", "Eva", "Karin", "Margareta", "Birgitta", "Camilla", "Marianne",
	"Åsa", "Ulla", "Elsa", "Märta", "Ingrid", "Britt", "Sofia", "Ebba", "Alice", "Ella",
	"Elin", "Linnea", "Matilda", "Wilma", "Saga", "Ida", "Emma", "Sara", "Malin", "Annika",
	"Susanne", "Gunilla", "Ann-Christin", "Solveig", "Gunnel", "Siv", "Maj-Britt", "Agneta", "Stina", "Sigrid",
}

// swedishSurnames are surnames common among Swedish-speaking Finns (and not rare among Finnish speakers).
var swedishSurnames = []string{
	"Johansson", "Lindqvist", "Lindholm", "Nyström", "Karlsson", "Andersson", "Nyman", "Lindström", "Lindberg", "Eriksson",
	"Lindroos", "Holmström", "Björklund", "Gustafsson", "Nordström", "Holmberg", "Berg", "Sundström", "Lundqvist", "Blomqvist",
	"Forsman", "Engström", "Wikström", "Grönroos", "Söderholm", "Westerlund", "Backman", "Strandberg", "Lindgren", "Ekholm",
	"Åberg", "Sjöberg", "Öhman", "Mattsson", "Sandberg", "Nylund", "Fagerström", "Granholm", "Hägglund", "Östman",
	"Sjöholm", "Åström", "Löfgren", "Enqvist", "Lönnqvist", "Storbacka", "Sjöblom", "Ahlström", "Björkqvist", "Häggblom",
}

// origin is a group of names of the same background: first names by gender, surnames as
// "male" or "male/female" when the surname is inflected by gender (Ivanov/Ivanova).
type origin struct {
	weight       int
	male, female []string
	surnames     []string
}

// foreignOrigins are the names of residents who prefer English: English speakers and others who
// have moved to Finland. The weights are shares among the foreign-named members.
var foreignOrigins = []origin{
	{weight: 35,
		male: []string{"James", "John", "David", "Michael", "Daniel", "Thomas", "Oliver", "Jack", "Harry", "George",
			"William", "Matthew", "Christopher", "Andrew", "Robert", "Richard", "Paul", "Mark", "Ryan", "Sean", "Liam", "Patrick"},
		female: []string{"Sarah", "Emma", "Olivia", "Emily", "Jessica", "Laura", "Rachel", "Hannah", "Sophie", "Charlotte",
			"Lucy", "Grace", "Megan", "Rebecca", "Amy", "Kate", "Jennifer", "Elizabeth", "Claire", "Siobhan"},
		surnames: []string{"Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Wilson", "Evans", "Thomas", "Johnson",
			"Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
			"Wood", "Harris", "Clarke", "Murphy", "O'Brien", "O'Connor", "Kelly", "Miller", "Anderson", "Campbell", "MacDonald", "Stewart"}},
	{weight: 10,
		male:     []string{"Kristjan", "Mart", "Tõnu", "Andres", "Rasmus", "Jaan", "Priit", "Rein", "Margus", "Toomas"},
		female:   []string{"Liis", "Kadri", "Triin", "Mari", "Piret", "Kätlin", "Maarja", "Kristiina", "Merike", "Tiiu"},
		surnames: []string{"Tamm", "Saar", "Sepp", "Mägi", "Kask", "Kukk", "Rebane", "Ilves", "Pärn", "Koppel", "Lepik", "Kõiv"}},
	{weight: 12,
		male:   []string{"Dmitri", "Sergei", "Aleksei", "Andrei", "Ivan", "Nikolai", "Vladimir", "Mihail", "Artjom", "Maksim"},
		female: []string{"Olga", "Natalia", "Irina", "Tatjana", "Svetlana", "Anastasia", "Jelena", "Marina", "Julia", "Darja"},
		surnames: []string{"Ivanov/Ivanova", "Smirnov/Smirnova", "Kuznetsov/Kuznetsova", "Popov/Popova", "Vasiljev/Vasiljeva",
			"Petrov/Petrova", "Sokolov/Sokolova", "Volkov/Volkova", "Fjodorov/Fjodorova", "Morozov/Morozova"}},
	{weight: 10,
		male:     []string{"Mohamed", "Ahmed", "Ali", "Hassan", "Abdi", "Omar", "Yusuf", "Abdullahi", "Ibrahim", "Mustafa"},
		female:   []string{"Fatima", "Amina", "Hodan", "Sahra", "Leila", "Maryam", "Nasra", "Hawa", "Aisha", "Zeinab"},
		surnames: []string{"Mohamed", "Ahmed", "Ali", "Hassan", "Abdullahi", "Hussein", "Osman", "Yusuf", "Farah", "Warsame"}},
	{weight: 10,
		male:     []string{"Rahul", "Amit", "Arjun", "Vikram", "Rohan", "Sanjay", "Karthik", "Aditya"},
		female:   []string{"Priya", "Anjali", "Deepa", "Neha", "Kavya", "Pooja", "Divya", "Shreya"},
		surnames: []string{"Patel", "Sharma", "Kumar", "Singh", "Gupta", "Reddy", "Nair", "Iyer", "Rao", "Joshi"}},
	{weight: 6,
		male:     []string{"Wei", "Jun", "Lei", "Hao", "Yang", "Jian"},
		female:   []string{"Li", "Mei", "Xiu", "Ying", "Jing", "Fang"},
		surnames: []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao"}},
	{weight: 5,
		male:     []string{"Minh", "Tuan", "Duc", "Hung", "Quang", "Long"},
		female:   []string{"Linh", "Huong", "Thu", "Mai", "Lan", "Hoa"},
		surnames: []string{"Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang"}},
	{weight: 6,
		male:     []string{"Carlos", "José", "Javier", "Alejandro", "Diego", "Andrés", "Pablo", "Luis"},
		female:   []string{"María", "Lucía", "Carmen", "Sofía", "Paula", "Isabel", "Elena", "Ana"},
		surnames: []string{"García", "Fernández", "Martínez", "López", "Rodríguez", "González", "Sánchez", "Pérez", "Gómez"}},
	{weight: 3,
		male:     []string{"Lukas", "Jonas", "Felix", "Tobias", "Jürgen", "Stefan"},
		female:   []string{"Lena", "Julia", "Katharina", "Anna", "Jördis", "Sabine"},
		surnames: []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Schäfer", "Koch"}},
	{weight: 3,
		male:   []string{"Piotr", "Tomasz", "Krzysztof", "Paweł", "Michał", "Marcin"},
		female: []string{"Anna", "Katarzyna", "Agnieszka", "Małgorzata", "Joanna", "Magdalena"},
		surnames: []string{"Kowalski/Kowalska", "Nowak", "Wiśniewski/Wiśniewska", "Wójcik", "Kamiński/Kamińska",
			"Lewandowski/Lewandowska", "Zieliński/Zielińska", "Kaczmarek"}},
}
