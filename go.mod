module github.com/cashbell/cashbell

go 1.26.8

require github.com/stripe/stripe-go/v76 v76.25.0
