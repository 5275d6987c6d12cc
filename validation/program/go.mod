module gcsim.dev/validation/program

go 1.27
