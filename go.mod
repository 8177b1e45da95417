module imperial

go 1.26

require ergo.services/ergo v1.999.310

require (
	github.com/fsnotify/fsnotify v1.10.1 // indirect
	golang.org/x/sys v0.13.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace ergo.services/ergo => github.com/ergo-services/ergo v1.999.310
