module pbxbill

go 1.26.8

require (
	github.com/gorilla/mux v1.8.1
	github.com/rs/zerolog v1.35.1
	github.com/shopspring/decimal v1.6.0
	go.etcd.io/bbolt v1.5.0
)

require (
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
