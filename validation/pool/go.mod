module gcsim.dev/validation/pool

go 1.27

require gcsim.dev/validation/goreport v0.0.0

replace gcsim.dev/validation/goreport => ../goreport
