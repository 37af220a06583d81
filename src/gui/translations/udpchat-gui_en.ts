<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>main</name>
    <message>
        <source>udpchat desktop client. Without --host it opens the connect window.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connect to this server at once.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The server&apos;s port (default 7777).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nickname (default: the server picks one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>enet (default) or tcp.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language of the windows, e.g. en or pt_BR (default: the system&apos;s).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The password of a registered --nick (also from UDPCHAT_PASSWORD).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>udpchat::gui::ChatModel</name>
    <message>
        <source>that nickname is taken, choose another</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the server is full</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>reconnected to %1 as %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>connected to %1 as %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not sent: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not confirmed by the server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 joined #%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>you left #%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is now known as %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 set the topic: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 cleared the topic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(message deleted by %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was kicked by %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>, operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>; rooms: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>; round trip not measured</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>; round trip %1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is away</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is away: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>notice: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>connection lost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>connection lost: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>disconnected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is typing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 and %2 are typing</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n people are typing</source>
        <translation>
            <numerusform>%n person is typing</numerusform>
            <numerusform>%n people are typing</numerusform>
        </translation>
    </message>
    <message>
        <source>/me works in rooms only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no kept message matches</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 messages match, newest first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no earlier messages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 earlier messages; /history before %2 for the ones before</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 earlier messages; that is the beginning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (by %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (by %2: %3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no bans</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bans: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>udpchat::gui::ConnectWindow</name>
    <message>
        <source>&amp;Connect</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>udpchat: connect</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Users</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Full</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Servers on the local network</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ENet (UDP)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TCP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Servers found on the &amp;local network:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Host:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Nickname:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Transport:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>type the server&apos;s address, or choose a server from the list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>full</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>speaks protocol %1; this client speaks %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>only for a registered nickname</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>udpchat::gui::GuiApp</name>
    <message>
        <source>asking for the nickname %1...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>connecting to %1:%2...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>that nickname is taken, choose another</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>that nickname is not allowed (%1), choose another</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the server is full</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>nothing is listening at %1 (connection refused)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>nobody answered at %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>could not connect to %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>udpchat::gui::MainWindow</name>
    <message>
        <source>away</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>lagging</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>active</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;lear</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Messages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Users in this room</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Conversations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A room (#name) or a nickname; empty: the conversation shown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>optional</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter sends, Shift+Enter starts a new line</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Empty the conversation shown (Ctrl+L)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Recipient:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;ubject:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Message:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Join a room...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+J</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Leave room / close conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+W</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Private message...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+P</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Change &amp;nickname...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+Shift+N</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Away</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+Shift+A</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Set the &amp;topic...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+Shift+T</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Become an &amp;operator...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Next conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Previous conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Clear this conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+L</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Go to the &amp;message box</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>F6</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n unread</source>
        <translation>
            <numerusform>%n unread</numerusform>
            <numerusform>%n unread</numerusform>
        </translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>sending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>history</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>typing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2, round trip %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not measured</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>#%1: no topic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>#%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Private conversation with %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Messages from the server</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Connection lost (%1). Reconnecting in %n s... (attempt %2)</source>
        <translation>
            <numerusform>Connection lost (%1). Reconnecting in %n s... (attempt %2)</numerusform>
            <numerusform>Connection lost (%1). Reconnecting in %n s... (attempt %2)</numerusform>
        </translation>
    </message>
    <message>
        <source>Connection lost (%1). Reconnecting... (attempt %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What you type is kept and sent once the connection is back.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disconnected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disconnected: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting to %1:%2...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 on %2 - udpchat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Private message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Who is this?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Kick...</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Delete this message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Join a room</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Room:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Private message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nickname:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Change nickname</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New nickname:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Set the topic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Topic of #%1:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Become an operator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operator password:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kick %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reason (optional):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send as an &amp;action (/me)</source>
        <translation type="unfinished"></translation>
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
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
