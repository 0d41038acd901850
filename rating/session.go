package rating

import "time"

// AdminUser is the administrator that the first start creates and that
// -admin-password sets.
const AdminUser = "admin"

// Session is a logged-in browser of the admin: who, and until when.
type Session struct {
	User    string    `json:"user"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Admin is a user of the browser admin, as listed: never its password.
type Admin struct {
	Name    string    `json:"name"`
	Changed time.Time `json:"changed"` // its password was last set
}
