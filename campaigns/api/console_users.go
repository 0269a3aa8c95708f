package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// The users of dispatch in the console, for admins only: the list, adding a user, disabling one and
// renewing a user's token, each of the last two after a confirmation page. A new token is shown
// once, in the answer to the POST that made it (never in a URL), on a page that is not cached.

// userRoutes serves /users.
func (c *console) userRoutes() {
	admin := func(h http.HandlerFunc) http.Handler {
		return c.s.requireSession(h, campaigns.RoleAdmin)
	}
	c.s.mux.Handle("GET /users", admin(c.userList))
	c.s.mux.Handle("POST /users", admin(c.userAdd))
	c.s.mux.Handle("GET /users/{name}/disable", admin(c.userConfirm("disable")))
	c.s.mux.Handle("POST /users/{name}/disable", admin(c.userDisable))
	c.s.mux.Handle("GET /users/{name}/rotate", admin(c.userConfirm("rotate")))
	c.s.mux.Handle("POST /users/{name}/rotate", admin(c.userRotate))
}

// usersRoles are the roles a new user may be given, in the form's order.
var usersRoles = []campaigns.Role{campaigns.RoleMarketer, campaigns.RolePrivacy, campaigns.RoleOps, campaigns.RoleAdmin}

// usersRow is a line of the user list.
type usersRow struct {
	campaigns.User
	// Path is the user's path under /users (name escaped).
	Path string
	// Expired is whether the user's token no longer opens anything; Self whether it is the
	// signed-in user.
	Expired, Self bool
}

// usersAddForm is the form that adds a user, as posted, with what is wrong by field.
type usersAddForm struct {
	Name, Role string
	Errs       map[string]string
}

// usersPageData is what the user list (users.html) shows.
type usersPageData struct {
	Users []usersRow
	Roles []campaigns.Role
	Add   usersAddForm
	// Disabled names a user just disabled, for the notice.
	Disabled string
}

// usersPath is the path of a user's action.
func usersPath(name, action string) string {
	return "/users/" + url.PathEscape(name) + "/" + action
}

// showUsers renders the user list with the add form f and the status.
func (c *console) showUsers(w http.ResponseWriter, r *http.Request, status int, f usersAddForm, disabled string) {
	me := user(r)
	list, err := c.svc.Users(r.Context(), me)
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	now := time.Now()
	d := usersPageData{Roles: usersRoles, Add: f}
	for _, u := range list {
		d.Users = append(d.Users, usersRow{User: u, Path: "/users/" + url.PathEscape(u.Name),
			Expired: !u.TokenExpiresAt.IsZero() && !u.TokenExpiresAt.After(now), Self: u.Name == me.Name})
		if u.Name == disabled && u.DisabledAt != nil {
			d.Disabled = disabled
		}
	}
	v := c.s.newView(r, "users.title", d)
	v.Nav = "users"
	c.s.render(w, r, status, "users.html", v)
}

// userList answers GET /users: every user, and the form that adds one.
func (c *console) userList(w http.ResponseWriter, r *http.Request) {
	c.showUsers(w, r, http.StatusOK, usersAddForm{Role: string(campaigns.RoleMarketer), Errs: map[string]string{}}, r.URL.Query().Get("disabled"))
}

// usersTokenData is what the page of a new token (users_token.html) shows.
type usersTokenData struct {
	User  campaigns.User
	Token string
	// Added: a new user (else a renewed token); Self: the signed-in user's own token.
	Added, Self bool
}

// showToken answers with the page that shows a new token this once.
func (c *console) showToken(w http.ResponseWriter, r *http.Request, d usersTokenData) {
	v := c.s.newView(r, "users.token.title", d)
	v.Nav = "users"
	c.s.render(w, r, http.StatusOK, "users_token.html", v)
}

// userAdd answers POST /users (name, role): adds the user and shows their token once; a name or role
// refused comes back with the reason next to the field.
func (c *console) userAdd(w http.ResponseWriter, r *http.Request) {
	lang := requestLang(r)
	f := usersAddForm{Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role"), Errs: map[string]string{}}
	role, err := campaigns.ParseRole(f.Role)
	if err != nil {
		f.Errs["role"] = translate(lang, "users.err.role")
	}
	if f.Name == "" {
		f.Errs["name"] = translate(lang, "users.err.noname")
	} else if err := campaigns.CheckField("name", f.Name); err != nil {
		f.Errs["name"] = translate(lang, "users.err.name", err.Error())
	}
	if len(f.Errs) > 0 {
		c.showUsers(w, r, http.StatusUnprocessableEntity, f, "")
		return
	}
	u, token, err := c.svc.AddUser(r.Context(), user(r), f.Name, role)
	switch {
	case err == nil:
		c.showToken(w, r, usersTokenData{User: u, Token: token, Added: true})
	case errors.Is(err, campaigns.ErrConflict):
		f.Errs["name"] = translate(lang, "users.err.taken", f.Name)
		c.showUsers(w, r, http.StatusConflict, f, "")
	case errors.Is(err, campaigns.ErrInvalid):
		if name, reason := invalidField(err, "name", "role"); name == "role" {
			f.Errs["role"] = translate(lang, "users.err.role")
		} else {
			f.Errs["name"] = translate(lang, "users.err.name", reason)
		}
		c.showUsers(w, r, http.StatusUnprocessableEntity, f, "")
	default:
		c.s.fail(w, r, err)
	}
}

// usersConfirmData is what the confirmation of disabling a user or renewing their token
// (users_confirm.html) shows.
type usersConfirmData struct {
	User campaigns.User
	// Action is disable or rotate; Path where its form posts.
	Action, Path string
	Self         bool
}

// userNamed returns the user of the path's {name}; ok false has answered (404 for an unknown name).
func (c *console) userNamed(w http.ResponseWriter, r *http.Request) (campaigns.User, bool) {
	name := r.PathValue("name")
	list, err := c.svc.Users(r.Context(), user(r))
	if err != nil {
		c.s.fail(w, r, err)
		return campaigns.User{}, false
	}
	for _, u := range list {
		if u.Name == name {
			return u, true
		}
	}
	c.s.renderMessage(w, r, http.StatusNotFound, "err.notfound", "users.err.unknown", name)
	return campaigns.User{}, false
}

// userConfirm answers GET /users/{name}/disable and /rotate: what the action does, and the button
// that does it.
func (c *console) userConfirm(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := c.userNamed(w, r)
		if !ok {
			return
		}
		v := c.s.newView(r, "users."+action+".title", usersConfirmData{User: u, Action: action,
			Path: usersPath(u.Name, action), Self: u.Name == user(r).Name})
		v.Nav = "users"
		c.s.render(w, r, http.StatusOK, "users_confirm.html", v)
	}
}

// userDisable answers POST /users/{name}/disable: disables the user, then back to the list.
func (c *console) userDisable(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := c.svc.DisableUser(r.Context(), user(r), name); err != nil {
		c.s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/users?disabled="+url.QueryEscape(name), http.StatusSeeOther)
}

// userRotate answers POST /users/{name}/rotate: gives the user a new token and shows it once.
func (c *console) userRotate(w http.ResponseWriter, r *http.Request) {
	me := user(r)
	u, token, err := c.svc.RotateToken(r.Context(), me, r.PathValue("name"))
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	c.showToken(w, r, usersTokenData{User: u, Token: token, Self: u.Name == me.Name})
}

func init() {
	addMessages(map[string][2]string{
		"users.title":           {"Users", "Käyttäjät"},
		"users.name":            {"Name", "Nimi"},
		"users.role":            {"Role", "Rooli"},
		"users.created":         {"Added", "Lisätty"},
		"users.token":           {"Token", "Tunniste"},
		"users.tokenrotated":    {"made %s", "luotu %s"},
		"users.tokenexpires":    {"valid until %s", "voimassa %s asti"},
		"users.tokenexpired":    {"expired %s", "vanhentunut %s"},
		"users.state":           {"State", "Tila"},
		"users.active":          {"active", "käytössä"},
		"users.disabledat":      {"disabled %s", "poistettu käytöstä %s"},
		"users.you":             {"(you)", "(sinä)"},
		"users.actions":         {"Actions", "Toiminnot"},
		"users.none":            {"No users.", "Ei käyttäjiä."},
		"users.add":             {"Add a user", "Lisää käyttäjä"},
		"users.add.namehint":    {"The name they sign in with, such as their first name and the initial of their last name.", "Nimi, jolla käyttäjä kirjautuu, esimerkiksi etunimi ja sukunimen alkukirjain."},
		"users.add.submit":      {"Add the user", "Lisää käyttäjä"},
		"users.add.rolehint":    {"Marketers run campaigns; privacy officers handle members' requests; operators watch the queues; admins may do everything.", "Markkinoijat hoitavat kampanjoita, tietosuojavastaavat jäsenten pyyntöjä ja ylläpitäjät jonoja; pääkäyttäjä voi tehdä kaiken."},
		"users.disable":         {"Disable…", "Poista käytöstä…"},
		"users.rotate":          {"New token…", "Uusi tunniste…"},
		"users.disabled":        {"User %s was disabled: their token and sessions no longer open anything.", "Käyttäjä %s poistettiin käytöstä: hänen tunnisteensa ja istuntonsa eivät enää avaa mitään."},
		"users.disable.title":   {"Disable a user", "Poista käyttäjä käytöstä"},
		"users.disable.heading": {"Disable %s (%s)?", "Poistetaanko %s (%s) käytöstä?"},
		"users.disable.text":    {"The user's token stops working at once and their sessions end. This cannot be undone: to let them in again, add them under a new name.", "Käyttäjän tunniste lakkaa toimimasta heti ja istunnot päättyvät. Tätä ei voi perua: päästääksesi hänet takaisin lisää hänet uudella nimellä."},
		"users.disable.self":    {"You cannot disable yourself.", "Et voi poistaa itseäsi käytöstä."},
		"users.disable.submit":  {"Disable", "Poista käytöstä"},
		"users.rotate.title":    {"Renew a token", "Uusi tunniste"},
		"users.rotate.heading":  {"Give %s (%s) a new token?", "Annetaanko käyttäjälle %s (%s) uusi tunniste?"},
		"users.rotate.text":     {"The old token stops working at once and the sessions begun with it end. The new token is shown once.", "Vanha tunniste lakkaa toimimasta heti ja sillä aloitetut istunnot päättyvät. Uusi tunniste näytetään kerran."},
		"users.rotate.self":     {"This is your own token: you will sign in again with the new one.", "Tämä on oma tunnisteesi: kirjaudut uudelleen uudella tunnisteella."},
		"users.rotate.submit":   {"Make a new token", "Luo uusi tunniste"},
		"users.token.title":     {"New token", "Uusi tunniste"},
		"users.token.added":     {"User %s (%s) was added.", "Käyttäjä %s (%s) lisättiin."},
		"users.token.rotated":   {"User %s has a new token.", "Käyttäjällä %s on uusi tunniste."},
		"users.token.label":     {"Token of %s", "Käyttäjän %s tunniste"},
		"users.token.once":      {"This is the only time the token is shown: dispatch keeps only its hash. Give it to %s over a safe channel (not by email); they sign in with their name and this token. It is valid until %s.", "Tunniste näytetään vain tämän kerran: dispatch säilyttää siitä vain tiivisteen. Anna se käyttäjälle %s turvallista reittiä (ei sähköpostilla); hän kirjautuu nimellään ja tällä tunnisteella. Se on voimassa %s asti."},
		"users.token.self":      {"Your old token and your sessions ended with this: sign in again with the new token.", "Vanha tunnisteesi ja istuntosi päättyivät: kirjaudu uudelleen uudella tunnisteella."},
		"users.token.back":      {"Back to the users", "Takaisin käyttäjiin"},
		"users.err.noname":      {"Give the user a name.", "Anna käyttäjälle nimi."},
		"users.err.name":        {"This name is not accepted: it %s.", "Nimeä ei hyväksytä: %s."},
		"users.err.taken":       {"The name %s is already in use.", "Nimi %s on jo käytössä."},
		"users.err.role":        {"Choose a role.", "Valitse rooli."},
		"users.err.unknown":     {"There is no user %s.", "Käyttäjää %s ei ole."},
	})
}
