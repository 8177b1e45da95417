// Package config is imperial's uWSGI configuration model. Every config source (ini, xml,
// yaml and json files, the command line) becomes one ordered []Option in which repeated
// keys keep their order, as uWSGI keeps them: `socket` twice is two sockets.
//
// It owns:
//   - the four format adapters (adapt_ini.go, adapt_xml.go, adapt_yaml.go, adapt_json.go),
//     each an Adapter: func(src []byte, file string) ([]Option, error);
//   - the command line (ParseArgs, with uWSGI's short flags and argument kinds);
//   - resolution, done once by a Loader over an fs.FS: magic variables (%n, %d, %p, ...),
//     `file:section` selection, includes (ini/xml/yaml/json/include/config/inherit),
//     set/set-placeholder, and uWSGI's three placeholder passes $(ENV), @(file), %(option);
//   - typed accessors (Get, All, Bool, Int) whose errors name file:line.
//
// Errors are collected, not logged: a failed Load returns an ErrorList whose lines read
// `file:line: key: reason`. Where uWSGI only warns (a missing section, an unknown magic
// variable on an option line) this package returns an error.
//
// It must not import ergo, net or any other imperial package: it is a pure codec (style
// §3 rule 8). It is imported by apps (which build each actor's typed Options from it) and
// by rel/imperial (`imperial -t file`).
package config
