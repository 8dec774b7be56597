module cashbell.local/localeenv

go 1.24
