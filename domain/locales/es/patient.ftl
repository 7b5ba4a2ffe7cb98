## Lo que dorsal dice a los pacientes en la aplicación y en el teléfono:
## consejos ante señales de alarma, recordatorios, avisos y consejos, y el
## texto de una notificación del dispositivo. Un paciente puede leerlos de
## noche y con dolor: frases cortas, palabras sencillas, primero lo que hay
## que hacer. Trato de usted. La redacción clínica sigue las fuentes citadas
## en la tabla de reglas (domain/src/red_flags) y en la de consejos
## (domain/src/prompts.rs).

## Vías de atención, según el país del paciente (domain/src/care_routes.rs).
## Cada mensaje de señal de alarma recibe dos variables, que leen estos tres
## mensajes (un mensaje que nombra uno de ellos lo incluye como
## { call-emergency }):
##   $emergency: el número de emergencias del país, o "none" si no se
##               conoce el país del paciente;
##   $route:     "gp-or-nhs-111" (solo Gran Bretaña) o
##               "doctor-or-urgent-care".
## No escribir nunca un número ni un servicio en ningún otro mensaje: solo
## estos tres pueden nombrarlos, para que a ningún paciente se le dé el
## número de otro país.
## Se insertan dentro de una frase: call-emergency empieza por "llame al";
## urgent-route y own-doctor van detrás de "con" ("póngase en contacto
## con ...", "una cita urgente con ..."). En Gran Bretaña se mantienen los
## nombres "GP" y "NHS 111" para que el paciente los reconozca.

call-emergency = { $emergency ->
        [none] llame al número de emergencias de su zona
       *[other] llame al { $emergency }
    }
urgent-route = { $route ->
        [gp-or-nhs-111] su médico de cabecera (GP) o con el NHS 111
       *[other] su médico o un centro de atención urgente
    }
own-doctor = { $route ->
        [gp-or-nhs-111] su médico de cabecera (GP)
       *[other] su médico
    }

## La línea de teléfono de la propia clínica. Todo consejo urgente o
## habitual la incluye justo después de lo que pide al paciente (nunca
## después de una instrucción de emergencia, ni en los consejos de
## emergencia), escrita pegada a la frase anterior: lleva su propio espacio
## inicial. $phone es "none" si la clínica no ha configurado ninguna línea
## (entonces no dice nada) o está en formato internacional (+4930123456);
## $hours son las palabras de la clínica, tal como ella las escribió.

clinic-line = { $phone ->
        [none] {""}
       *[other] {" "}También puede llamar a su equipo médico al { $phone } ({ $hours }).
    }

## Consejos ante señales de alarma: un título y un texto por regla. Los
## códigos de las reglas y sus fuentes están en domain/src/red_flags.

red-flag-cauda-equina-title = Vaya a urgencias ahora
red-flag-cauda-equina-body =
    Perder el control de la orina o de las heces, notar adormecida la zona entre las piernas (la que toca el asiento de una bicicleta) o tener síntomas en las dos piernas puede indicar presión sobre los nervios de la parte baja de la columna. Vaya a urgencias o { call-emergency } ahora. No espere a recibir una respuesta aquí.

red-flag-major-trauma-title = Busque atención de urgencias ahora
red-flag-major-trauma-body =
    El dolor de espalda después de un accidente grave o de una caída fuerte debe evaluarse de urgencia. Vaya a urgencias o { call-emergency } ahora.

red-flag-motor-deficit-title = Necesita una evaluación médica hoy
red-flag-motor-deficit-body =
    Si nota una debilidad nueva en la pierna, o la que ya tenía empeora, necesita una evaluación urgente hoy: póngase en contacto con { urgent-route }.{ clinic-line } Si la nota en las dos piernas o tiene cambios al orinar o al defecar, vaya a urgencias o { call-emergency } ahora.

red-flag-infection-title = Consulte hoy por la fiebre
red-flag-infection-body =
    Si tiene fiebre o escalofríos además del dolor de espalda, debe consultarlo hoy. Póngase en contacto hoy con { urgent-route }.{ clinic-line } Si se siente muy mal, nota confusión o le falta el aire, { call-emergency }.

red-flag-night-sweats-title = Consulte por sus sudores nocturnos
red-flag-night-sweats-body =
    Los sudores nocturnos junto con dolor de espalda deben revisarse. Póngase en contacto con { own-doctor } en el plazo de un día.{ clinic-line }

red-flag-weight-loss-title = Pida una cita urgente con { own-doctor }
red-flag-weight-loss-body =
    Perder peso sin proponérselo, junto con dolor de espalda, debe revisarse. Pida una cita urgente con { own-doctor }.{ clinic-line }

red-flag-cancer-history-title = Contacte hoy con su equipo de oncología
red-flag-cancer-history-body =
    Como tiene o ha tenido cáncer, un dolor de espalda nuevo debe revisarse pronto. Póngase en contacto hoy con su equipo de oncología o con { own-doctor }.{ clinic-line }

red-flag-fragility-fracture-title = Pida que le revisen la espalda hoy
red-flag-fragility-fracture-body =
    Si tiene osteoporosis, ha tomado corticoides durante mucho tiempo o es una persona mayor, un dolor de espalda repentino debe revisarse hoy para descartar una fractura en la columna. Póngase en contacto hoy con { urgent-route }.{ clinic-line }

red-flag-radicular-symptoms-title = Avísenos si el hormigueo se extiende
red-flag-radicular-symptoms-body =
    El hormigueo o el adormecimiento que baja por una pierna es frecuente cuando un problema de espalda irrita un nervio. Avísenos si se extiende o si nota la pierna débil.{ clinic-line } Si lo nota en las dos piernas, o tiene cambios al orinar o al defecar, no espere una respuesta aquí: vaya a urgencias o { call-emergency } ahora.

red-flag-unrelenting-night-pain-title = Se revisará su dolor nocturno
red-flag-unrelenting-night-pain-body =
    El dolor por la noche que no se alivia al descansar ni al cambiar de postura debe revisarse. Hemos pedido a su equipo médico que se ponga en contacto con usted.{ clinic-line }

red-flag-night-pain-streak-title = Se revisará su dolor nocturno
red-flag-night-pain-streak-body =
    El dolor no le está dejando dormir. Su fisioterapeuta revisará su plan.{ clinic-line }

red-flag-not-improving-title = Le recomendamos una revisión con su fisioterapeuta
red-flag-not-improving-body =
    Después de dos semanas, su dolor no ha mejorado tanto como se esperaría. Le recomendamos una revisión con su fisioterapeuta.{ clinic-line }

red-flag-worsening-trend-title = Su dolor ha aumentado
red-flag-worsening-trend-body =
    Su dolor ha aumentado. Repase las señales de alarma; su fisioterapeuta revisará su plan.{ clinic-line }

## El recordatorio de los estiramientos de la noche.

stretch-reminder-title = Es la hora de sus estiramientos de la noche
stretch-reminder-body =
    Su programa de ejercicios en casa dura unos minutos. Estirar antes de acostarse puede aliviar el dolor de espalda por la noche.

## Avisos y consejos (domain/src/prompts.rs, que indica qué activa cada uno).

mattress-prompt-title = Es hora de revisar su colchón
mattress-prompt-body =
    Puede que su colchón ya no sostenga bien su espalda. A la mayoría de las personas con dolor de espalda les va bien un colchón de firmeza media. Gírelo de la cabecera a los pies, o dele la vuelta, ahora y cada pocos meses. Hasta que lo cambie, puede ayudar un sobrecolchón o una tabla debajo del colchón.

tip-stomach-title = Un consejo si duerme boca abajo
tip-stomach-body =
    Ponga una almohada delgada debajo de las caderas y use una almohada plana, o ninguna, debajo de la cabeza, para que la parte baja de la espalda no se arquee.

tip-side-knees-title = Un consejo si duerme de lado
tip-side-knees-body =
    Ponga una almohada entre las rodillas para mantener alineadas las caderas, la pelvis y la columna.

tip-back-knees-title = Un consejo si duerme boca arriba
tip-back-knees-body =
    Ponga una almohada debajo de las rodillas para mantener la curva natural de la parte baja de la espalda.

# $minutes_from y $minutes_to: cuánto tiempo mantener el calor.
tip-warmth-title = Un consejo para una noche más tranquila
tip-warmth-body =
    Aplicar calor en la parte baja de la espalda entre { $minutes_from } y { $minutes_to } minutos antes de acostarse puede aliviar la rigidez. Después, haga sus estiramientos de la noche. No se duerma con el calor puesto.

pt-referral-title = Es hora de ver a su fisioterapeuta
pt-referral-body =
    Su dolor de espalda no está mejorando, o el dolor le sigue despertando por la noche. Pida una cita con su fisioterapeuta para revisar su programa de ejercicios.

# $days: días completos desde la última sesión de ejercicios.
adherence-nudge-title = Sus estiramientos siguen pendientes
adherence-nudge-body =
    { $days ->
        [one] Ha pasado un día
       *[other] Han pasado { $days } días
    } desde su última sesión de ejercicios. Unos minutos de su programa hoy ayudan a mantener la espalda en movimiento.

## Una notificación del dispositivo solo dice que hay algo esperando: la
## pantalla de bloqueo no es privada.

device-push-title = dorsal
device-push-body = Tiene un mensaje nuevo.
