## Emails dorsal sends. Plain text: no markup, no health details (an email
## may be read on a shared screen or a work account).

## Password reset: a single-use code for someone who asked to reset their
## password. Variables: $code (the code, as typed), $minutes (how long it
## stays valid).

password-reset-subject = Your dorsal password reset code
password-reset-body =
    We received a request to reset the password of your dorsal account.

    Your code is: { $code }

    It is valid for { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    } and can be used once. Enter it in dorsal together with your new password.

    If you did not ask for this, ignore this email: your password stays as it is.
