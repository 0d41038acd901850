package handlers

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"pbxbill/rating"
)

// usersPage is the data of the Users page: the admin users, and the add
// form as typed when it was refused.
type usersPage struct {
	pageBase
	Users  []rating.Admin
	Name   string
	Errors formErrors
}

func (u *ui) usersPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderUsers(w, r, http.StatusOK, usersPage{Errors: formErrors{}})
}

func (u *ui) renderUsers(w http.ResponseWriter, r *http.Request, status int, p usersPage) error {
	p.pageBase = u.base(w, r, "Users", "users")
	var err error
	if p.Users, err = u.Store.Admins(); err != nil {
		return err
	}
	return u.render(w, status, "users", p)
}

// addUser creates an admin user with the password typed for it.
func (u *ui) addUser(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	err := u.store(r).AddAdmin(name, r.PostFormValue("password"))
	if code := rating.ErrorCode(err); code == rating.EInvalid || code == rating.EConflict {
		p := usersPage{Name: name, Errors: formErrors{}}
		p.Errors.add(err, "user", "password")
		return u.renderUsers(w, r, http.StatusBadRequest, p)
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, "/users", "ok", "Added user "+name+". Give them the password by a safe way; they can log in now.")
}

// resetUser sets a user's password and ends their sessions.
func (u *ui) resetUser(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	err := u.store(r).SetAdminPassword(name, r.PostFormValue("password"))
	if rating.ErrorCode(err) == rating.EInvalid {
		return u.redirect(w, r, "/users", "error", "The password of "+name+" was not changed: "+rating.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, "/users", "ok", "Set a new password for "+name+"; their sessions were ended.")
}

// removeUser removes a user. Nobody removes themselves: the page would
// end with nobody to see it.
func (u *ui) removeUser(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	if name == userOf(r) {
		return u.redirect(w, r, "/users", "error", "You cannot remove yourself: log in as another user to remove "+name+".")
	}
	err := u.store(r).DeleteAdmin(name)
	if rating.ErrorCode(err) == rating.EConflict {
		return u.redirect(w, r, "/users", "error", rating.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	return u.redirect(w, r, "/users", "ok", "Removed user "+name+": their sessions were ended.")
}
