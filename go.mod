module imperial

go 1.26

// Plain TCP listeners, as uWSGI, Ernie and BEAM listen: since Go 1.24 a
// listener is Multipath TCP by default, which costs every accepted
// connection the MPTCP handshake path and refuses TCP-level options such as
// TCP_QUICKACK (the routers' delayed ACKs, subscription.ListenRaw).
godebug multipathtcp=0

require (
	ergo.services/ergo v1.999.310
	github.com/fsnotify/fsnotify v1.10.1
	github.com/go-zeromq/zmq4 v0.17.0
	github.com/jackc/pgx/v5 v5.12.0
	github.com/rabbitmq/amqp091-go v1.16.0
	go.mongodb.org/mongo-driver/v2 v2.9.3
	golang.org/x/sys v0.46.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/go-zeromq/goczmq/v4 v4.2.2 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	github.com/xdg-go/pbkdf2 v1.0.0 // indirect
	github.com/xdg-go/scram v1.2.0 // indirect
	github.com/xdg-go/stringprep v1.0.4 // indirect
	github.com/youmark/pkcs8 v0.0.0-20240726163527-a2c0da244d78 // indirect
	golang.org/x/crypto v0.53.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace ergo.services/ergo => github.com/ergo-services/ergo v1.999.310
