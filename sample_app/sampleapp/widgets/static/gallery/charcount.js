/* Gallery character count: a text area that tells how much room is left. */
jQuery(function ($) {
    $(".gallery-charcount").each(function () {
        var limit = 140, $area = $("<textarea rows='3' cols='30'/>"), $left = $("<div class='chars-left'/>");
        function update() { $left.text((limit - $area.val().length) + " characters left"); }
        $area.on("input", update);
        $(this).find(".gallery-body").empty().append($area, $left);
        update();
        $(this).addClass("gallery-ready");
    });
});
