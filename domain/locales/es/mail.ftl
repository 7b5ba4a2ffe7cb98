## Correos que envía dorsal. Texto plano: sin formato y sin datos de salud
## (un correo puede leerse en una pantalla compartida o en una cuenta del
## trabajo). Trato de usted.

## Restablecer la contraseña: un código de un solo uso para quien lo ha
## pedido. Variables: $code (el código, tal como se escribe), $minutes (los
## minutos que sigue siendo válido).

password-reset-subject = Su código para restablecer la contraseña de dorsal
password-reset-body =
    Hemos recibido una solicitud para restablecer la contraseña de su cuenta de dorsal.

    Su código es: { $code }

    Es válido durante { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    } y solo puede usarse una vez. Introdúzcalo en dorsal junto con su nueva contraseña.

    Si no ha sido usted quien lo ha solicitado, ignore este correo: su contraseña seguirá siendo la misma.
