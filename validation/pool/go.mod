module gcsim.dev/validation/pool

go 1.27
