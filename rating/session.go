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
