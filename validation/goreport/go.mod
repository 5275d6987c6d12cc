module gcsim.dev/validation/goreport

go 1.27
