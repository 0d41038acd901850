package handlers

import (
	"net/http"

	"github.com/rs/zerolog"

	"pbxbill/rating"
	"pbxbill/store"
)

// Config is what the HTTP layer needs from main.
type Config struct {
	Store               *store.Store
	Numbering           rating.Numbering
	MaxCallDuration     int
	APIToken            string // the bootstrap token; "" disables it
	RatingRequiresToken bool
	Log                 zerolog.Logger
}

// New returns the HTTP handler serving /healthz, /metrics and /api/v1.
func New(c Config) http.Handler {
	return http.NotFoundHandler() // TODO: handlers helper
}
