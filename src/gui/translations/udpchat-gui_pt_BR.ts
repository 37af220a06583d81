<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="pt_BR">
<context>
    <name>main</name>
    <message>
        <source>udpchat desktop client. Without --host it opens the connect window.</source>
        <translation>cliente de desktop do udpchat. Sem --host, abre a janela de conexão.</translation>
    </message>
    <message>
        <source>Connect to this server at once.</source>
        <translation>Conectar a este servidor imediatamente.</translation>
    </message>
    <message>
        <source>The server&apos;s port (default 7777).</source>
        <translation>A porta do servidor (padrão 7777).</translation>
    </message>
    <message>
        <source>Nickname (default: the server picks one).</source>
        <translation>Apelido (padrão: o servidor escolhe um).</translation>
    </message>
    <message>
        <source>enet (default) or tcp.</source>
        <translation>enet (padrão) ou tcp.</translation>
    </message>
    <message>
        <source>Language of the windows, e.g. en or pt_BR (default: the system&apos;s).</source>
        <translation>Idioma das janelas, por exemplo en ou pt_BR (padrão: o do sistema).</translation>
    </message>
    <message>
        <source>The password of a registered --nick (also from UDPCHAT_PASSWORD).</source>
        <translation>A senha de um --nick registrado (também de UDPCHAT_PASSWORD).</translation>
    </message>
</context>
<context>
    <name>udpchat::gui::ChatModel</name>
    <message>
        <source>that nickname is taken, choose another</source>
        <translation>esse apelido já está em uso, escolha outro</translation>
    </message>
    <message>
        <source>the server is full</source>
        <translation>o servidor está lotado</translation>
    </message>
    <message>
        <source>reconnected to %1 as %2</source>
        <translation>reconectado a %1 como %2</translation>
    </message>
    <message>
        <source>connected to %1 as %2</source>
        <translation>conectado a %1 como %2</translation>
    </message>
    <message>
        <source>not sent: %1</source>
        <translation>não enviada: %1</translation>
    </message>
    <message>
        <source>not confirmed by the server</source>
        <translation>não confirmada pelo servidor</translation>
    </message>
    <message>
        <source>%1 joined #%2</source>
        <translation>%1 entrou em #%2</translation>
    </message>
    <message>
        <source>you left #%1</source>
        <translation>você saiu de #%1</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>%1 saiu</translation>
    </message>
    <message>
        <source>%1 quit</source>
        <translation>%1 desconectou</translation>
    </message>
    <message>
        <source>%1 is now known as %2</source>
        <translation>%1 agora se chama %2</translation>
    </message>
    <message>
        <source>%1 set the topic: %2</source>
        <translation>%1 definiu o tópico: %2</translation>
    </message>
    <message>
        <source>%1 cleared the topic</source>
        <translation>%1 apagou o tópico</translation>
    </message>
    <message>
        <source>(message deleted by %1)</source>
        <translation>(mensagem apagada por %1)</translation>
    </message>
    <message>
        <source>%1 was kicked by %2</source>
        <translation>%1 foi expulso por %2</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>, operator</source>
        <translation>, operador</translation>
    </message>
    <message>
        <source>; rooms: %1</source>
        <translation>; salas: %1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>nenhuma</translation>
    </message>
    <message>
        <source>; round trip not measured</source>
        <translation>; ida e volta não medida</translation>
    </message>
    <message>
        <source>; round trip %1 ms</source>
        <translation>; ida e volta %1 ms</translation>
    </message>
    <message>
        <source>%1 is away</source>
        <translation>%1 está ausente</translation>
    </message>
    <message>
        <source>%1 is away: %2</source>
        <translation>%1 está ausente: %2</translation>
    </message>
    <message>
        <source>%1 is back</source>
        <translation>%1 voltou</translation>
    </message>
    <message>
        <source>notice: %1</source>
        <translation>aviso: %1</translation>
    </message>
    <message>
        <source>connection lost</source>
        <translation>conexão perdida</translation>
    </message>
    <message>
        <source>connection lost: %1</source>
        <translation>conexão perdida: %1</translation>
    </message>
    <message>
        <source>disconnected</source>
        <translation>desconectado</translation>
    </message>
    <message>
        <source>%1 is typing</source>
        <translation>%1 está digitando</translation>
    </message>
    <message>
        <source>%1 and %2 are typing</source>
        <translation>%1 e %2 estão digitando</translation>
    </message>
    <message numerus="yes">
        <source>%n people are typing</source>
        <translation>
            <numerusform>%n pessoa está digitando</numerusform>
            <numerusform>%n pessoas estão digitando</numerusform>
        </translation>
    </message>
    <message>
        <source>/me works in rooms only</source>
        <translation>/me funciona apenas em salas</translation>
    </message>
    <message>
        <source>no kept message matches</source>
        <translation>nenhuma mensagem guardada corresponde</translation>
    </message>
    <message>
        <source>%1 messages match, newest first</source>
        <translation>%1 mensagens correspondem, as mais recentes primeiro</translation>
    </message>
    <message>
        <source>no earlier messages</source>
        <translation>nenhuma mensagem anterior</translation>
    </message>
    <message>
        <source>%1 earlier messages; /history before %2 for the ones before</source>
        <translation>%1 mensagens anteriores; /history before %2 para as de antes</translation>
    </message>
    <message>
        <source>%1 earlier messages; that is the beginning</source>
        <translation>%1 mensagens anteriores; este é o começo</translation>
    </message>
    <message>
        <source>%1 (by %2)</source>
        <translation>%1 (por %2)</translation>
    </message>
    <message>
        <source>%1 (by %2: %3)</source>
        <translation>%1 (por %2: %3)</translation>
    </message>
    <message>
        <source>no bans</source>
        <translation>nenhum banimento</translation>
    </message>
    <message>
        <source>bans: %1</source>
        <translation>banimentos: %1</translation>
    </message>
</context>
<context>
    <name>udpchat::gui::ConnectWindow</name>
    <message>
        <source>&amp;Connect</source>
        <translation>&amp;Conectar</translation>
    </message>
    <message>
        <source>udpchat: connect</source>
        <translation>udpchat: conectar</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Servidor</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Endereço</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>Usuários</translation>
    </message>
    <message>
        <source>Full</source>
        <translation>Lotado</translation>
    </message>
    <message>
        <source>Servers on the local network</source>
        <translation>Servidores na rede local</translation>
    </message>
    <message>
        <source>ENet (UDP)</source>
        <translation>ENet (UDP)</translation>
    </message>
    <message>
        <source>TCP</source>
        <translation>TCP</translation>
    </message>
    <message>
        <source>Servers found on the &amp;local network:</source>
        <translation>Servidores encontrados na rede &amp;local:</translation>
    </message>
    <message>
        <source>&amp;Host:</source>
        <translation>&amp;Servidor:</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Porta:</translation>
    </message>
    <message>
        <source>&amp;Nickname:</source>
        <translation>&amp;Apelido:</translation>
    </message>
    <message>
        <source>&amp;Transport:</source>
        <translation>&amp;Transporte:</translation>
    </message>
    <message>
        <source>type the server&apos;s address, or choose a server from the list</source>
        <translation>digite o endereço do servidor ou escolha um da lista</translation>
    </message>
    <message>
        <source>full</source>
        <translation>lotado</translation>
    </message>
    <message>
        <source>speaks protocol %1; this client speaks %2</source>
        <translation>fala o protocolo %1; este cliente fala o %2</translation>
    </message>
    <message>
        <source>only for a registered nickname</source>
        <translation>só para um apelido registrado</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>Se&amp;nha:</translation>
    </message>
</context>
<context>
    <name>udpchat::gui::GuiApp</name>
    <message>
        <source>asking for the nickname %1...</source>
        <translation>pedindo o apelido %1...</translation>
    </message>
    <message>
        <source>connecting to %1:%2...</source>
        <translation>conectando a %1:%2...</translation>
    </message>
    <message>
        <source>that nickname is taken, choose another</source>
        <translation>esse apelido já está em uso, escolha outro</translation>
    </message>
    <message>
        <source>that nickname is not allowed (%1), choose another</source>
        <translation>esse apelido não é permitido (%1), escolha outro</translation>
    </message>
    <message>
        <source>the server is full</source>
        <translation>o servidor está lotado</translation>
    </message>
    <message>
        <source>nothing is listening at %1 (connection refused)</source>
        <translation>nada está escutando em %1 (conexão recusada)</translation>
    </message>
    <message>
        <source>nobody answered at %1</source>
        <translation>ninguém respondeu em %1</translation>
    </message>
    <message>
        <source>could not connect to %1: %2</source>
        <translation>não foi possível conectar a %1: %2</translation>
    </message>
</context>
<context>
    <name>udpchat::gui::MainWindow</name>
    <message>
        <source>away</source>
        <translation>ausente</translation>
    </message>
    <message>
        <source>lagging</source>
        <translation>com atraso</translation>
    </message>
    <message>
        <source>active</source>
        <translation>ativo</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>&amp;Enviar</translation>
    </message>
    <message>
        <source>C&amp;lear</source>
        <translation>&amp;Limpar</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>Mensagens</translation>
    </message>
    <message>
        <source>Users in this room</source>
        <translation>Usuários nesta sala</translation>
    </message>
    <message>
        <source>Conversations</source>
        <translation>Conversas</translation>
    </message>
    <message>
        <source>A room (#name) or a nickname; empty: the conversation shown</source>
        <translation>Uma sala (#nome) ou um apelido; vazio: a conversa exibida</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>opcional</translation>
    </message>
    <message>
        <source>Enter sends, Shift+Enter starts a new line</source>
        <translation>Enter envia, Shift+Enter começa uma nova linha</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>Enviar (Enter)</translation>
    </message>
    <message>
        <source>Empty the conversation shown (Ctrl+L)</source>
        <translation>Esvaziar a conversa exibida (Ctrl+L)</translation>
    </message>
    <message>
        <source>&amp;Recipient:</source>
        <translation>&amp;Destinatário:</translation>
    </message>
    <message>
        <source>S&amp;ubject:</source>
        <translation>A&amp;ssunto:</translation>
    </message>
    <message>
        <source>&amp;Message:</source>
        <translation>&amp;Mensagem:</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>&amp;Bate-papo</translation>
    </message>
    <message>
        <source>&amp;Join a room...</source>
        <translation>&amp;Entrar em uma sala...</translation>
    </message>
    <message>
        <source>Ctrl+J</source>
        <translation>Ctrl+J</translation>
    </message>
    <message>
        <source>&amp;Leave room / close conversation</source>
        <translation>&amp;Sair da sala / fechar a conversa</translation>
    </message>
    <message>
        <source>Ctrl+W</source>
        <translation>Ctrl+W</translation>
    </message>
    <message>
        <source>&amp;Private message...</source>
        <translation>Mensagem &amp;privada...</translation>
    </message>
    <message>
        <source>Ctrl+P</source>
        <translation>Ctrl+P</translation>
    </message>
    <message>
        <source>Change &amp;nickname...</source>
        <translation>Mudar o &amp;apelido...</translation>
    </message>
    <message>
        <source>Ctrl+Shift+N</source>
        <translation>Ctrl+Shift+N</translation>
    </message>
    <message>
        <source>&amp;Away</source>
        <translation>A&amp;usente</translation>
    </message>
    <message>
        <source>Ctrl+Shift+A</source>
        <translation>Ctrl+Shift+A</translation>
    </message>
    <message>
        <source>Set the &amp;topic...</source>
        <translation>Definir o &amp;tópico...</translation>
    </message>
    <message>
        <source>Ctrl+Shift+T</source>
        <translation>Ctrl+Shift+T</translation>
    </message>
    <message>
        <source>Become an &amp;operator...</source>
        <translation>Tornar-se &amp;operador...</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>Sa&amp;ir</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Exibir</translation>
    </message>
    <message>
        <source>&amp;Next conversation</source>
        <translation>&amp;Próxima conversa</translation>
    </message>
    <message>
        <source>&amp;Previous conversation</source>
        <translation>Conversa &amp;anterior</translation>
    </message>
    <message>
        <source>&amp;Clear this conversation</source>
        <translation>&amp;Limpar esta conversa</translation>
    </message>
    <message>
        <source>Ctrl+L</source>
        <translation>Ctrl+L</translation>
    </message>
    <message>
        <source>Go to the &amp;message box</source>
        <translation>Ir para a caixa de &amp;mensagem</translation>
    </message>
    <message>
        <source>F6</source>
        <translation>F6</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>A&amp;juda</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>&amp;Atalhos de teclado</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Servidor</translation>
    </message>
    <message numerus="yes">
        <source>%n unread</source>
        <translation>
            <numerusform>%n não lida</numerusform>
            <numerusform>%n não lidas</numerusform>
        </translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Assunto:</translation>
    </message>
    <message>
        <source>sending</source>
        <translation>enviando</translation>
    </message>
    <message>
        <source>history</source>
        <translation>histórico</translation>
    </message>
    <message>
        <source>typing</source>
        <translation>digitando</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>%1: %2, round trip %3</source>
        <translation>%1: %2, ida e volta %3</translation>
    </message>
    <message>
        <source>not measured</source>
        <translation>não medido</translation>
    </message>
    <message>
        <source>#%1: no topic</source>
        <translation>#%1: sem tópico</translation>
    </message>
    <message>
        <source>#%1: %2</source>
        <translation>#%1: %2</translation>
    </message>
    <message>
        <source>Private conversation with %1</source>
        <translation>Conversa privada com %1</translation>
    </message>
    <message>
        <source>Messages from the server</source>
        <translation>Mensagens do servidor</translation>
    </message>
    <message numerus="yes">
        <source>Connection lost (%1). Reconnecting in %n s... (attempt %2)</source>
        <translation>
            <numerusform>Conexão perdida (%1). Reconectando em %n s... (tentativa %2)</numerusform>
            <numerusform>Conexão perdida (%1). Reconectando em %n s... (tentativa %2)</numerusform>
        </translation>
    </message>
    <message>
        <source>Connection lost (%1). Reconnecting... (attempt %2)</source>
        <translation>Conexão perdida (%1). Reconectando... (tentativa %2)</translation>
    </message>
    <message>
        <source>What you type is kept and sent once the connection is back.</source>
        <translation>O que você digitar é guardado e enviado quando a conexão voltar.</translation>
    </message>
    <message>
        <source>Disconnected.</source>
        <translation>Desconectado.</translation>
    </message>
    <message>
        <source>Disconnected: %1</source>
        <translation>Desconectado: %1</translation>
    </message>
    <message>
        <source>Connecting to %1:%2...</source>
        <translation>Conectando a %1:%2...</translation>
    </message>
    <message>
        <source>%1 on %2 - udpchat</source>
        <translation>%1 em %2 - udpchat</translation>
    </message>
    <message>
        <source>&amp;Private message</source>
        <translation>Mensagem &amp;privada</translation>
    </message>
    <message>
        <source>&amp;Who is this?</source>
        <translation>&amp;Quem é?</translation>
    </message>
    <message>
        <source>&amp;Kick...</source>
        <translation>&amp;Expulsar...</translation>
    </message>
    <message>
        <source>&amp;Delete this message</source>
        <translation>&amp;Apagar esta mensagem</translation>
    </message>
    <message>
        <source>Join a room</source>
        <translation>Entrar em uma sala</translation>
    </message>
    <message>
        <source>Room:</source>
        <translation>Sala:</translation>
    </message>
    <message>
        <source>Private message</source>
        <translation>Mensagem privada</translation>
    </message>
    <message>
        <source>Nickname:</source>
        <translation>Apelido:</translation>
    </message>
    <message>
        <source>Change nickname</source>
        <translation>Mudar o apelido</translation>
    </message>
    <message>
        <source>New nickname:</source>
        <translation>Novo apelido:</translation>
    </message>
    <message>
        <source>Set the topic</source>
        <translation>Definir o tópico</translation>
    </message>
    <message>
        <source>Topic of #%1:</source>
        <translation>Tópico de #%1:</translation>
    </message>
    <message>
        <source>Become an operator</source>
        <translation>Tornar-se operador</translation>
    </message>
    <message>
        <source>Operator password:</source>
        <translation>Senha de operador:</translation>
    </message>
    <message>
        <source>Kick %1</source>
        <translation>Expulsar %1</translation>
    </message>
    <message>
        <source>Reason (optional):</source>
        <translation>Motivo (opcional):</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>Atalhos de teclado</translation>
    </message>
    <message>
        <source>Send as an &amp;action (/me)</source>
        <translation>Enviar como &amp;ação (/me)</translation>
    </message>
    <message>
        <source>Enter: send the message
Shift+Enter: new line in the message
Ctrl+Enter: send the message as an action (/me)
Tab, Shift+Tab: move between the fields
Alt+1 ... Alt+9: show conversation 1 to 9
Ctrl+PgDown, Ctrl+PgUp: next, previous conversation
F6: go to the message box
Ctrl+J: join a room
Ctrl+W: leave the room, or close the private conversation
Ctrl+P: private message
Ctrl+Shift+N: change nickname
Ctrl+Shift+A: away / back
Ctrl+Shift+T: set the topic
Ctrl+L: clear the conversation shown
Ctrl+Q: quit
Alt + the underlined letter: the field or button it names
Commands typed in the message box (/join, /msg, /me, /nick, /away, ...) work as in the line client; /help lists them.</source>
        <translation>Enter: enviar a mensagem
Shift+Enter: nova linha na mensagem
Ctrl+Enter: enviar a mensagem como ação (/me)
Tab, Shift+Tab: passar de um campo a outro
Alt+1 ... Alt+9: exibir a conversa 1 a 9
Ctrl+PgDown, Ctrl+PgUp: próxima conversa, conversa anterior
F6: ir para a caixa de mensagem
Ctrl+J: entrar em uma sala
Ctrl+W: sair da sala ou fechar a conversa privada
Ctrl+P: mensagem privada
Ctrl+Shift+N: mudar o apelido
Ctrl+Shift+A: ausente / de volta
Ctrl+Shift+T: definir o tópico
Ctrl+L: limpar a conversa exibida
Ctrl+Q: sair
Alt + a letra sublinhada: o campo ou botão que ela nomeia
Comandos digitados na caixa de mensagem (/join, /msg, /me, /nick, /away, ...) funcionam como no cliente de linha; /help lista todos.</translation>
    </message>
</context>
</TS>
